"""Endpoints, the per-order record, events taken in, deliveries and their attempts — pure Python.

Datetimes here are always timezone-aware UTC (the adapters normalise what databases return).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tillkey.contracts.errors import Conflict

ROTATION_OVERLAP = timedelta(hours=24)
ALL_EVENTS = "*"




@dataclass
class Endpoint:
    endpoint_id: str
    merchant_id: str
    url: str
    events: list[str]
    secret: str
    created_at: datetime
    description: str | None = None
    enabled: bool = True
    previous_secret: str | None = None
    previous_secret_expires_at: datetime | None = None
    failing_since: datetime | None = None     # first failed attempt since the last success
    disabled_reason: str | None = None
    deleted_at: datetime | None = None

    def subscribes(self, event_type: str) -> bool:
        return self.enabled and self.deleted_at is None and (
            ALL_EVENTS in self.events or event_type in self.events)

    def signing_secrets(self, now: datetime) -> list[str]:
        """The new secret first; the old one too while the rotation overlap lasts."""
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and now < self.previous_secret_expires_at:
            secrets.append(self.previous_secret)
        return secrets

    def rotate_secret(self, new_secret: str, now: datetime) -> None:
        # Signing with both for 24 h lets the merchant deploy the new secret without losing a webhook.
        self.previous_secret = self.secret
        self.previous_secret_expires_at = now + ROTATION_OVERLAP
        self.secret = new_secret

    def change(self, *, url: str | None = None, events: list[str] | None = None,
               description: str | None = None, enabled: bool | None = None) -> None:
        if url is not None:
            self.url = url
        if events is not None:
            self.events = list(events)
        if description is not None:
            self.description = description
        if enabled is True:
            self.enabled, self.disabled_reason, self.failing_since = True, None, None
        elif enabled is False:
            self.enabled, self.disabled_reason = False, "disabled by the merchant"

    def disable(self, reason: str) -> bool:
        """True when this call disabled it (so the caller emits the event once)."""
        if not self.enabled:
            return False
        self.enabled, self.disabled_reason = False, reason
        return True

    def delete(self, now: datetime) -> None:
        self.deleted_at = now
        self.enabled = False


@dataclass
class OrderRecord:
    """What webhooks knows about one order: whose it is, its `custom`, the next sequence number,
    and whether the order was deleted (its customer's personal data erased here too)."""

    order_id: str
    merchant_id: str
    custom: dict[str, str]
    next_sequence: int = 1
    erased_at: datetime | None = None

    @classmethod
    def tombstone(cls, order_id: str, merchant_id: str, now: datetime) -> OrderRecord:
        """order.deleted overtook order.created: remember the deletion, so that order.created is
        stored erased when it comes (whenever that is — even after order.deleted stopped waiting)."""
        return cls(order_id=order_id, merchant_id=merchant_id, custom={}, erased_at=now)

    @property
    def awaits_created(self) -> bool:
        # Sequence 1 is taken by order.created and nothing else, so a record still at 1 is a tombstone.
        return self.next_sequence == 1

    def take_sequence(self) -> int:
        number = self.next_sequence
        self.next_sequence += 1
        return number

    def erase(self, now: datetime) -> None:
        if self.erased_at is None:
            self.erased_at = now


@dataclass
class WebhookEvent:
    """One event as merchants receive it; `body` is serialised once so every retry is byte-identical
    (until its order is deleted: then it is rewritten once, without the customer's personal data)."""

    event_id: str
    merchant_id: str
    type: str
    sequence: int | None
    body: str
    created_at: datetime
    order_id: str | None = None     # None for events not about one order (license_pool.low)


@dataclass
class Attempt:
    attempt_id: str
    delivery_id: str
    attempted_at: datetime
    duration_ms: int
    response_status: int | None = None
    error: str | None = None
    response_excerpt: str | None = None
    manual: bool = False


@dataclass
class Delivery:
    delivery_id: str
    endpoint_id: str
    merchant_id: str
    event_id: str
    event_type: str
    created_at: datetime
    next_attempt_at: datetime | None
    status: str = "pending"               # pending | succeeded | failed
    scheduled_attempts: int = 0           # attempts made by the retry schedule (not redeliveries)
    lease_expires_at: datetime | None = None
    manual_pending: bool = False          # a redelivery was asked for and not yet attempted
    resume_at: datetime | None = None     # where the schedule stood when the redelivery was asked
    last_attempt_at: datetime | None = None
    attempts: list[Attempt] = field(default_factory=list, compare=False, repr=False)

    def request_redelivery(self, now: datetime) -> None:
        if self.manual_pending:
            raise Conflict("A redelivery of this delivery is already waiting to be sent.")
        if self.lease_expires_at is not None and self.lease_expires_at > now:
            raise Conflict("An attempt of this delivery is being sent right now; try again in a moment.")
        self.resume_at = self.next_attempt_at if self.status == "pending" else None
        self.status, self.next_attempt_at, self.manual_pending = "pending", now, True

    def abandon(self) -> None:
        """The endpoint is gone or disabled: nothing more will be tried."""
        if self.status == "pending":
            self.status, self.next_attempt_at, self.manual_pending, self.resume_at = "failed", None, False, None
