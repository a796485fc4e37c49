"""The webhooks database: its tables, the shared outbox/inbox/idempotency tables, the domain mapping.

Domain classes are mapped imperatively so that `domain/` stays free of SQLAlchemy; the ones the
worker builds from Core rows through mapped subclasses (see `StoredDelivery`), so they stay plain.
"""
from __future__ import annotations

import functools

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import registry, relationship

from tillkey.messaging import define_inbox, define_outbox
from tillkey.platform.db import UtcDateTime
from tillkey.platform.idempotency import define_idempotency_table
from tillkey.webhooks.domain.model import Attempt, Delivery, Endpoint, WebhookEvent

metadata = MetaData()
outbox = define_outbox(metadata)
inbox = define_inbox(metadata)
idempotency = define_idempotency_table(metadata)

endpoints = Table(
    "endpoints", metadata,
    Column("endpoint_id", String(64), primary_key=True),
    Column("merchant_id", String(64), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("events", JSON, nullable=False),
    Column("description", String(500), nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("secret", String(128), nullable=False),
    Column("previous_secret", String(128), nullable=True),
    Column("previous_secret_expires_at", UtcDateTime, nullable=True),
    Column("failing_since", UtcDateTime, nullable=True),
    Column("disabled_reason", String(200), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("deleted_at", UtcDateTime, nullable=True),
    Index("ix_endpoints_merchant", "merchant_id", "created_at"),
)

order_records = Table(
    "order_records", metadata,
    Column("order_id", String(64), primary_key=True),
    Column("merchant_id", String(64), nullable=False),
    Column("custom", JSON, nullable=False),
    Column("next_sequence", Integer, nullable=False),
    # Set by order.deleted; a row that only has this (next_sequence 1) is a tombstone waiting for order.created.
    Column("erased_at", UtcDateTime, nullable=True),
)

events = Table(
    "events", metadata,
    Column("event_id", String(64), primary_key=True),
    Column("merchant_id", String(64), nullable=False),
    Column("type", String(64), nullable=False),
    Column("sequence", Integer, nullable=True),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # Erasure finds an order's stored bodies by it; None for events not about one order.
    Column("order_id", String(64), nullable=True),
    Index("ix_events_order", "order_id"),
)

deliveries = Table(
    "deliveries", metadata,
    Column("delivery_id", String(64), primary_key=True),
    Column("endpoint_id", String(64), ForeignKey("endpoints.endpoint_id"), nullable=False),
    Column("merchant_id", String(64), nullable=False),
    Column("event_id", String(64), ForeignKey("events.event_id"), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("scheduled_attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("manual_pending", Boolean, nullable=False),
    Column("resume_at", UtcDateTime, nullable=True),
    Column("last_attempt_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # The worker's poll: due pending rows in time order.
    Index("ix_deliveries_due", "status", "next_attempt_at"),
    Index("ix_deliveries_merchant", "merchant_id", "created_at"),
    Index("ix_deliveries_endpoint", "endpoint_id", "status"),
    Index("ix_deliveries_event", "event_id"),
)

attempts = Table(
    "attempts", metadata,
    Column("attempt_id", String(64), primary_key=True),
    Column("delivery_id", String(64), ForeignKey("deliveries.delivery_id"), nullable=False, index=True),
    Column("attempted_at", UtcDateTime, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("response_status", Integer, nullable=True),
    Column("error", String(500), nullable=True),
    Column("response_excerpt", Text, nullable=True),
    Column("manual", Boolean, nullable=False),
)

_registry = registry()


# Endpoints, events, deliveries and attempts are mapped as these subclasses, what the ORM loads and
# flushes (the API's reads and changes, a redelivery, an erasure); order records are never loaded
# by the ORM, so not mapped. The domain classes stay plain: the worker builds them by the thousand
# from Core rows and writes them with Core, and a mapped class's instrumented __init__ and
# attribute sets cost 20 to 50 times a dataclass's (26 µs for one Delivery, 0.5 µs plain).
class StoredEndpoint(Endpoint):
    pass


class StoredEvent(WebhookEvent):
    pass


class StoredDelivery(Delivery):
    pass


class StoredAttempt(Attempt):
    pass


@functools.cache  # once per process: mapping a class twice is an error
def start_mappers() -> None:
    _registry.map_imperatively(StoredEndpoint, endpoints)
    _registry.map_imperatively(StoredEvent, events)
    _registry.map_imperatively(StoredAttempt, attempts)
    _registry.map_imperatively(StoredDelivery, deliveries, properties={
        # Never loaded with a delivery: the API reads attempts itself (`attempts_of`).
        "attempts": relationship(StoredAttempt, order_by=attempts.c.attempted_at, lazy="noload"),
    })
