"""The notifications database: its tables and the shared outbox/inbox.

The domain classes are not mapped: the repositories read and write them as rows with Core
(adapters/repositories.py), and building an ORM-mapped dataclass (instrumented attributes, state
events) cost about 25 times a plain one, for every message, recipient and line on the hot paths.
"""
from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, Text, func

from tillkey.messaging import define_inbox, define_outbox

metadata = MetaData()
outbox = define_outbox(metadata)
inbox = define_inbox(metadata)

merchant_contacts = Table(
    "merchant_contacts", metadata,
    Column("merchant_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
)

order_recipients = Table(
    "order_recipients", metadata,
    Column("order_id", String(64), primary_key=True),
    Column("merchant_id", String(64), nullable=False, index=True),
    Column("email", String(320), nullable=True),
    Column("first_name", String(200), nullable=True),
    Column("locale", String(16), nullable=False),
)

order_lines = Table(
    "order_lines", metadata,
    Column("line_id", String(64), primary_key=True),
    Column("order_id", String(64), nullable=False, index=True),
    Column("product_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
)

products = Table(
    "products", metadata,
    Column("product_id", String(64), primary_key=True),
    Column("merchant_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
)

messages = Table(
    "messages", metadata,
    Column("message_id", String(64), primary_key=True),
    # Unique: the database, not a read-then-write, is what makes "once per cause" hold when two
    # copies of an event (or two events about one thing) are handled at the same time.
    Column("cause", String(255), nullable=False, unique=True),
    Column("template", String(64), nullable=False),
    Column("locale", String(16), nullable=False),
    Column("to_address", String(320), nullable=True),  # null once the order is erased
    Column("subject", String(500), nullable=False),
    Column("text_body", Text, nullable=True),
    Column("html_body", Text, nullable=True),
    Column("order_id", String(64), nullable=True, index=True),
    Column("merchant_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", String(500), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Index("ix_messages_due", "status", "next_attempt_at"),
    Index("ix_messages_merchant_created", "merchant_id", "created_at"),
)

# The log is searched by address case-insensitively (support types what the customer said).
Index("ix_messages_to_lower", func.lower(messages.c.to_address))
