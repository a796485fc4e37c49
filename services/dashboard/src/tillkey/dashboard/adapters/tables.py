"""The dashboard's own tables: merchants (with the sealed API key), their users, sign-in sessions."""
from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Index, MetaData, String, Table, Text

from tillkey.platform.rate_limit_storage import define_rate_limit_table

metadata = MetaData()

merchants = Table(
    "merchants", metadata,
    Column("merchant_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("sealed_api_key", Text, nullable=False),    # AES-GCM under a key derived from PLATFORM_SECRET
    Column("created_at", DateTime(timezone=True), nullable=False),
)

users = Table(
    "users", metadata,
    Column("user_id", String(64), primary_key=True),
    Column("merchant_id", String(64), ForeignKey("merchants.merchant_id"), nullable=False),
    Column("email", String(320), nullable=False, unique=True),     # normalized: lower case
    Column("password_hash", String(255), nullable=False),          # argon2id, never the password
    Column("created_at", DateTime(timezone=True), nullable=False),
)

sessions = Table(
    "sessions", metadata,
    Column("token_hash", String(64), primary_key=True),             # sha256 of the cookie's token
    Column("user_id", String(64), ForeignKey("users.user_id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_sessions_user", "user_id"),
)

rate_limits = define_rate_limit_table(metadata)

# A colleague invited by a user: a one-time link (the token's hash here), used once or expired.
invitations = Table(
    "invitations", metadata,
    Column("invitation_id", String(64), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the link's token
    Column("merchant_id", String(64), ForeignKey("merchants.merchant_id"), nullable=False),
    Column("email", String(320), nullable=False),                   # normalized: lower case
    Column("invited_by", String(320), nullable=False),              # the inviter's email, as it was then
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_invitations_merchant", "merchant_id"),
)

# Support (the admin credential): its own sign-ins, and a record of every action with who and why.
support_sessions = Table(
    "support_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("name", String(100), nullable=False),                    # who signed in, as they said
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

support_actions = Table(
    "support_actions", metadata,
    Column("action_id", String(64), primary_key=True),
    Column("order_id", String(64)),                                 # None: not about one order (a replay)
    Column("action", String(40), nullable=False),                   # cancel | refund | resend | replay …
    Column("subject", String(200)),                                 # what else it was about: "orders: evt_…"
    Column("reason", Text, nullable=False),
    Column("who", String(100), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_support_actions_order", "order_id"),
    Index("ix_support_actions_at", "at"),
)
