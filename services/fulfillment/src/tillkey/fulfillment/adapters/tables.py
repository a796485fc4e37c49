"""The fulfillment database: its tables, the shared outbox/inbox, and the domain mapping.

Domain classes are mapped imperatively so that `domain/` stays free of SQLAlchemy.
"""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Integer, MetaData, String, Table
from sqlalchemy.orm import registry, relationship

from tillkey.fulfillment.domain.model import Delivery, Order, Product
from tillkey.messaging import define_inbox, define_outbox

metadata = MetaData()
outbox = define_outbox(metadata)
inbox = define_inbox(metadata)

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
)

_registry = registry()
_mapped = False


def start_mappers() -> None:
    global _mapped
    if _mapped:
        return
    _registry.map_imperatively(Product, products)
    _registry.map_imperatively(Delivery, deliveries)
    _registry.map_imperatively(Order, orders, properties={
        "deliveries": relationship(Delivery, order_by=deliveries.c.position, cascade="all, delete-orphan"),
    })
    _mapped = True
