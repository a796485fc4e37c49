"""The payments database: its tables, the shared outbox/inbox, and the domain mapping.

Domain classes are mapped imperatively so that `domain/` stays free of SQLAlchemy.
"""
from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, ForeignKey, Index, MetaData, String, Table
from sqlalchemy.orm import registry, relationship

from tillkey.messaging import define_inbox, define_outbox
from tillkey.payments.domain.model import Merchant, Order, Payment

metadata = MetaData()
outbox = define_outbox(metadata)
inbox = define_inbox(metadata)

merchants = Table(
    "merchants", metadata,
    Column("merchant_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
)

orders = Table(
    "orders", metadata,
    Column("order_id", String(64), primary_key=True),
    Column("merchant_id", String(64), nullable=False, index=True),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),  # minor units
    Column("status", String(16), nullable=False),
    Column("payment_method", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

payments = Table(
    "payments", metadata,
    Column("payment_id", String(64), primary_key=True),
    Column("order_id", String(64), ForeignKey("orders.order_id"), nullable=False),
    Column("method", String(32), nullable=False),
    Column("status", String(24), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("instructions", JSON, nullable=True),
    Column("failure_code", String(64), nullable=True),
    Column("failure_message", String(500), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The list call pages one order's attempts newest first.
    Index("ix_payments_order_created", "order_id", "created_at", "payment_id"),
)

_registry = registry()
_mapped = False


def start_mappers() -> None:
    global _mapped
    if _mapped:
        return
    _registry.map_imperatively(Merchant, merchants)
    _registry.map_imperatively(Payment, payments)
    _registry.map_imperatively(Order, orders, properties={
        "payments": relationship(Payment, order_by=payments.c.created_at, cascade="all, delete-orphan"),
    })
    _mapped = True
