"""The orders database: its tables, the shared outbox/inbox/idempotency tables, and the domain mapping.

Domain classes are mapped imperatively so that `domain/` stays free of SQLAlchemy.
"""
from __future__ import annotations

import functools

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.orm import composite, registry, relationship

from tillkey.messaging import define_inbox, define_outbox
from tillkey.orders.domain.api_keys import ApiKey
from tillkey.orders.domain.carts import Cart, CartLine
from tillkey.orders.domain.catalog import Merchant, Product
from tillkey.orders.domain.coupons import Coupon
from tillkey.orders.domain.orders import Customer, Order, OrderLine
from tillkey.orders.domain.refunds import Refund
from tillkey.platform.db import UtcDateTime
from tillkey.platform.idempotency import define_idempotency_table
from tillkey.platform.rate_limit_storage import define_rate_limit_table
from tillkey.platform.revoked_keys import define_revoked_api_keys_table

Money = BigInteger

metadata = MetaData()
outbox = define_outbox(metadata)
inbox = define_inbox(metadata)
idempotency_keys = define_idempotency_table(metadata)
rate_limits = define_rate_limit_table(metadata)
revoked_api_keys = define_revoked_api_keys_table(metadata)   # this service's denylist, as every service's

merchants = Table(
    "merchants", metadata,
    Column("merchant_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("terms_url", String(2048), nullable=True),
    Column("privacy_url", String(2048), nullable=True),
)

products = Table(
    "products", metadata,
    Column("product_id", String(64), primary_key=True),
    Column("merchant_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("prices", JSON, nullable=False),
    Column("default_currency", String(3), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_products_merchant_created", "merchant_id", "created_at", "product_id"),
)

coupons = Table(
    "coupons", metadata,
    # The key is the lower-cased code: uniqueness per merchant ignores case, race-free.
    Column("merchant_id", String(64), primary_key=True),
    Column("code_key", String(64), primary_key=True),
    Column("code", String(64), nullable=False),
    Column("percent_off", Integer, nullable=True),
    Column("amount_off", JSON, nullable=True),
    Column("product_ids", JSON, nullable=True),
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("max_redemptions", Integer, nullable=True),
    Column("redemptions", Integer, nullable=False, default=0),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

carts = Table(
    "carts", metadata,
    Column("cart_id", String(64), primary_key=True),
    Column("merchant_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("coupon_code", String(64), nullable=True),
    Column("email", String(320), nullable=True),
    Column("return_url", String(2048), nullable=True),
    Column("custom", JSON, nullable=False),
    # Unique: one cart gives at most one order, whatever races the application loses.
    Column("order_id", String(64), nullable=True, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("locale", String(35), nullable=True),
)

cart_lines = Table(
    "cart_lines", metadata,
    Column("line_id", String(64), primary_key=True),
    Column("cart_id", String(64), ForeignKey("carts.cart_id", ondelete="CASCADE"), nullable=False, index=True),
    Column("product_id", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("position", Integer, nullable=False),
)

orders = Table(
    "orders", metadata,
    Column("order_id", String(64), primary_key=True),
    Column("merchant_id", String(64), nullable=False),
    Column("cart_id", String(64), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("delivery_status", String(24), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("subtotal", Money, nullable=False),
    Column("discount", Money, nullable=False),
    Column("total", Money, nullable=False),
    Column("refunded_amount", Money, nullable=False),
    Column("payment_method", String(32), nullable=False),
    Column("coupon_code", String(64), nullable=True),
    # Customer columns are nullable: a deleted order keeps its amounts, not its personal data.
    Column("customer_email", String(320), nullable=True),
    Column("customer_first_name", String(100), nullable=True),
    Column("customer_last_name", String(100), nullable=True),
    Column("customer_country", String(2), nullable=True),
    Column("customer_company", String(200), nullable=True),
    Column("customer_vat_id", String(32), nullable=True),
    Column("customer_locale", String(35), nullable=True),
    Column("custom", JSON, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("paid_at", UtcDateTime(), nullable=True),
    Column("delivered_at", UtcDateTime(), nullable=True),
    # Lifecycle and support (revision 0002).
    Column("refund_reserved", Money, nullable=False, server_default="0"),
    Column("reminder_sent_at", UtcDateTime(), nullable=True),
    Column("canceled_at", UtcDateTime(), nullable=True),
    Column("cancel_reason", String(500), nullable=True),
    Column("deleted_at", UtcDateTime(), nullable=True),
    Column("last_payment_failure", JSON, nullable=True),
    Column("licenses_resent_at", UtcDateTime(), nullable=True),
    Index("ix_orders_merchant_created", "merchant_id", "created_at", "order_id"),
    Index("ix_orders_status_created", "status", "created_at"),
    # Support's list of every merchant's orders, newest first (revision 0007).
    Index("ix_orders_created", "created_at", "order_id"),
)
# Orders are searched by the customer's email ignoring case (merchant and support; revision 0007).
Index("ix_orders_customer_email_lower", func.lower(orders.c.customer_email))

order_lines = Table(
    "order_lines", metadata,
    Column("line_id", String(64), primary_key=True),
    Column("order_id", String(64), ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("product_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Money, nullable=False),
    Column("discount", Money, nullable=False),
    Column("total", Money, nullable=False),
    Column("delivery_status", String(24), nullable=False),
    # What fulfillment delivered (revision 0002): the order page shows it and resending sends it.
    Column("delivery_method", String(16), nullable=True),
    Column("licenses", JSON, nullable=True),
    Column("delivery_text", Text, nullable=True),
    Column("delivered_at", UtcDateTime(), nullable=True),
)

refunds = Table(
    "refunds", metadata,
    Column("refund_id", String(64), primary_key=True),
    Column("order_id", String(64), ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False, index=True),
    Column("merchant_id", String(64), nullable=False),
    Column("amount", Money, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("requested_by", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("settled_at", UtcDateTime(), nullable=True),
    Column("failure_code", String(64), nullable=True),
    Column("failure_message", String(500), nullable=True),
)

# The key registry (docs/integration.md "API keys"): never the key, only its id, name and prefix.
api_keys = Table(
    "api_keys", metadata,
    Column("key_id", String(64), primary_key=True),
    Column("merchant_id", String(64), nullable=False),
    Column("name", String(100), nullable=False),
    Column("prefix", String(100), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("revoked_by", String(16), nullable=True),
    Index("ix_api_keys_merchant_created", "merchant_id", "created_at"),
)

_registry = registry()


@functools.cache  # once per process: mapping a class twice is an error
def start_mappers() -> None:
    _registry.map_imperatively(Merchant, merchants)
    _registry.map_imperatively(Product, products)
    _registry.map_imperatively(Coupon, coupons)
    _registry.map_imperatively(CartLine, cart_lines)
    _registry.map_imperatively(Cart, carts, properties={
        "lines": relationship(CartLine, order_by=cart_lines.c.position, cascade="all, delete-orphan",
                              lazy="selectin"),
    })
    _registry.map_imperatively(OrderLine, order_lines)
    _registry.map_imperatively(Refund, refunds)
    _registry.map_imperatively(ApiKey, api_keys)
    _registry.map_imperatively(Order, orders, properties={
        "lines": relationship(OrderLine, order_by=order_lines.c.position, cascade="all, delete-orphan",
                              lazy="selectin"),
        "customer": composite(Customer, orders.c.customer_email, orders.c.customer_first_name,
                              orders.c.customer_last_name, orders.c.customer_country, orders.c.customer_company,
                              orders.c.customer_vat_id, orders.c.customer_locale),
    })
    # Configured now, not at the first object the ORM builds: adapters/rows.py builds the hot paths'
    # objects without the mapped __init__, which is what would have configured them.
    _registry.configure()
