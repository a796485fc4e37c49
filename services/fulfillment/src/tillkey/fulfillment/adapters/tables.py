"""The fulfillment database: its tables, the shared outbox/inbox, and the domain mapping.

Domain classes are mapped imperatively so that `domain/` stays free of SQLAlchemy.
"""
from __future__ import annotations

import functools

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import registry, relationship

from tillkey.fulfillment.domain.licensing import Activation, GeneratedKey, SigningKey
from tillkey.fulfillment.domain.model import Delivery, Order, Product
from tillkey.fulfillment.domain.sources import LicenseSource, Pool
from tillkey.messaging import define_inbox, define_outbox
from tillkey.platform.idempotency import define_idempotency_table
from tillkey.platform.rate_limit_storage import define_rate_limit_table

metadata = MetaData()
outbox = define_outbox(metadata)
inbox = define_inbox(metadata)
idempotency_keys = define_idempotency_table(metadata)
rate_limits = define_rate_limit_table(metadata)

products = Table(
    "products", metadata,
    Column("product_id", String(64), primary_key=True),
    Column("merchant_id", String(64), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("as_of", DateTime(timezone=True), nullable=False),
)

orders = Table(
    "orders", metadata,
    Column("order_id", String(64), primary_key=True),
    Column("merchant_id", String(64), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Personal data, nulled when the order is deleted.
    Column("email", String(320), nullable=True),
    Column("first_name", String(200), nullable=True),
    Column("last_name", String(200), nullable=True),
    Column("country", String(64), nullable=True),
)

deliveries = Table(
    "deliveries", metadata,
    Column("line_id", String(64), primary_key=True),
    Column("order_id", String(64), ForeignKey("orders.order_id"), nullable=False, index=True),
    Column("product_id", String(64), nullable=False, index=True),
    Column("quantity", Integer, nullable=False),
    Column("position", Integer, nullable=False),
    Column("status", String(24), nullable=False),
    Column("method", String(16), nullable=True),
    Column("reason", String(500), nullable=True),
    Column("licenses", JSON, nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("fallback_from", String(16), nullable=True),
    # The web-service call schedule: due time, lease of the worker calling now, and failures so far.
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("lease_expires_at", DateTime(timezone=True), nullable=True),
    Column("last_error", String(500), nullable=True),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
)

license_sources = Table(
    "license_sources", metadata,
    Column("product_id", String(64), primary_key=True),
    Column("merchant_id", String(64), nullable=False, index=True),
    Column("method", String(16), nullable=False),
    Column("url", String(2048), nullable=True),
    Column("secret", String(128), nullable=True),
    Column("text", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # A `generated` source's settings (null for the other methods).
    Column("prefix", String(12), nullable=True),
    Column("activation_limit", Integer, nullable=True),
    Column("valid_days", Integer, nullable=True),
    Column("revoke_on_refund", Boolean, nullable=True),
)

# A product's Ed25519 key pair, kept when its source changes: keys issued before stay verifiable.
signing_keys = Table(
    "signing_keys", metadata,
    Column("product_id", String(64), primary_key=True),
    Column("public_key", Text, nullable=False),
    Column("sealed_private_key", Text, nullable=False),  # AES-GCM under a key derived from PLATFORM_SECRET
    Column("created_at", DateTime(timezone=True), nullable=False),
)

generated_keys = Table(
    "generated_keys", metadata,
    Column("key_id", String(64), primary_key=True),
    Column("product_id", String(64), nullable=False, index=True),
    Column("merchant_id", String(64), nullable=False),
    Column("order_id", String(64), nullable=False, index=True),
    Column("line_id", String(64), nullable=False, index=True),
    Column("position", Integer, nullable=False),    # its place in the line's `licenses`
    Column("key", String(100), nullable=True),      # null once the order is erased
    # HMAC of the key: the public API finds a key by it in one indexed lookup, and unique, a key is
    # never issued twice.
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("token", Text, nullable=False),
    Column("activation_limit", Integer, nullable=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("status", String(16), nullable=False),
    Column("revoked_reason", String(16), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

activations = Table(
    "activations", metadata,
    Column("activation_id", String(64), primary_key=True),
    Column("key_id", String(64), ForeignKey("generated_keys.key_id"), nullable=False, index=True),
    # Personal data (they identify a customer's machine): the rows go when the order is deleted.
    Column("instance_name", String(200), nullable=True),
    Column("fingerprint", String(500), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# One row per product with a pool: the row claims lock, so "enough keys?" and the alarm are exact.
pools = Table(
    "pools", metadata,
    Column("product_id", String(64), primary_key=True),
    Column("merchant_id", String(64), nullable=False),
    Column("low_stock_threshold", Integer, nullable=False),
    Column("alarm_armed", Boolean, nullable=False),
)

license_keys = Table(
    "license_keys", metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("product_id", String(64), nullable=False),
    Column("key", String(500), nullable=False),
    Column("line_id", String(64), nullable=True),  # null: still in the pool
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=True),
    # A key is never in one product's pool twice, so it can never be handed out twice.
    UniqueConstraint("product_id", "key", name="uq_license_keys_product_key"),
    Index("ix_license_keys_free", "product_id", "line_id", "seq"),
)

_registry = registry()


@functools.cache  # once per process: mapping a class twice is an error
def start_mappers() -> None:
    _registry.map_imperatively(Product, products)
    _registry.map_imperatively(Delivery, deliveries)
    _registry.map_imperatively(LicenseSource, license_sources)
    _registry.map_imperatively(Pool, pools)
    _registry.map_imperatively(SigningKey, signing_keys)
    _registry.map_imperatively(GeneratedKey, generated_keys)
    _registry.map_imperatively(Activation, activations)
    _registry.map_imperatively(Order, orders, properties={
        "deliveries": relationship(Delivery, order_by=deliveries.c.position, cascade="all, delete-orphan"),
    })
