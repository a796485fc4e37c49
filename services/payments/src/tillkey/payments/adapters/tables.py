"""The payments database: its tables, the shared outbox/inbox, and the domain mapping.

Domain classes are mapped imperatively so that `domain/` stays free of SQLAlchemy.
"""
from __future__ import annotations

import functools

from sqlalchemy import JSON, BigInteger, Boolean, Column, DateTime, ForeignKey, Index, MetaData, String, Table
from sqlalchemy.orm import registry, relationship

from tillkey.messaging import define_inbox, define_outbox
from tillkey.payments.domain.model import Merchant, Order, Payment
from tillkey.payments.domain.refunds import Refund
from tillkey.platform.idempotency import define_idempotency_table
from tillkey.platform.rate_limit_storage import define_rate_limit_table

metadata = MetaData()
outbox = define_outbox(metadata)
inbox = define_inbox(metadata)
idempotency_keys = define_idempotency_table(metadata)
rate_limits = define_rate_limit_table(metadata)

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
    Column("locale", String(16), nullable=True),
    Column("summary", JSON, nullable=True),   # lines and totals for the payment page (order_summary)
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
    Column("reference", String(32), nullable=True),  # bank transfers: matched by it, unique
    Column("gateway", String(32), nullable=True),
    Column("charge_id", String(64), nullable=True),
    # The single-use token, kept only until the gateway acknowledges the charge so that a crash
    # between our commit and the gateway call can be resumed. A token is not card data.
    Column("gateway_token", String(128), nullable=True),
    # The list call pages one order's attempts newest first.
    Index("ix_payments_order_created", "order_id", "created_at", "payment_id"),
    Index("ix_payments_status_updated", "status", "updated_at"),
    Index("uq_payments_reference", "reference", unique=True),
)

refunds = Table(
    "refunds", metadata,
    Column("refund_id", String(64), primary_key=True),
    Column("order_id", String(64), ForeignKey("orders.order_id"), nullable=False, index=True),
    Column("payment_id", String(64), ForeignKey("payments.payment_id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("automatic", Boolean, nullable=False),
    Column("gateway", String(32), nullable=True),
    Column("charge_id", String(64), nullable=True),
    Column("gateway_refund_id", String(64), nullable=True),
    Column("failure_code", String(64), nullable=True),
    Column("failure_message", String(500), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_refunds_status_updated", "status", "updated_at"),
    Index("ix_refunds_payment", "payment_id"),  # each listed payment loads its refunds
)

# Every gateway notification we acted on, by the gateway's id: a redelivered one has no second
# effect (recorded in the same transaction as the effect).
gateway_notifications = Table(
    "gateway_notifications", metadata,
    Column("gateway", String(32), primary_key=True),
    Column("notification_id", String(128), primary_key=True),
    Column("type", String(32), nullable=False),
    Column("reference", String(64), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

_registry = registry()


@functools.cache  # once per process: mapping a class twice is an error
def start_mappers() -> None:
    _registry.map_imperatively(Merchant, merchants)
    _registry.map_imperatively(Payment, payments, properties={
        # Read side only (the order owns and changes its refunds): the API shows each attempt with
        # its refunds. Loaded with the payment, so a payment handed to the HTTP edge detached has them.
        "refunds": relationship(Refund, viewonly=True, lazy="selectin",
                                order_by=(refunds.c.created_at, refunds.c.refund_id)),
    })
    _registry.map_imperatively(Refund, refunds)
    _registry.map_imperatively(Order, orders, properties={
        "payments": relationship(Payment, order_by=(payments.c.created_at, payments.c.payment_id),
                                 cascade="all, delete-orphan"),
        "refunds": relationship(Refund, order_by=(refunds.c.created_at, refunds.c.refund_id),
                                cascade="all, delete-orphan"),
    })
