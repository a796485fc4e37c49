"""What fulfillment knows: products (owner, name), and per order what delivering it needs.

Pure Python: mapped to tables imperatively in adapters/tables.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

LINE_STATUSES = ("pending", "awaiting_merchant", "delivered")
DELIVERY_METHODS = ("web_service", "pool", "email", "manual", "generated")


def _utc(dt: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


@dataclass(eq=False)
class Product:
    product_id: str
    merchant_id: str
    name: str
    active: bool
    as_of: datetime  # when orders said this; an older message never overwrites a newer one

    def revise(self, merchant_id: str, name: str, active: bool, as_of: datetime) -> bool:
        """Apply what a product event says, unless it is older than what we hold (retries reorder)."""
        if _utc(as_of) < _utc(self.as_of):
            return False
        self.merchant_id, self.name, self.active, self.as_of = merchant_id, name, active, as_of
        return True


class LineAlreadyDelivered(Exception):
    """A delivered line never changes again: its licenses went to the customer."""


@dataclass(eq=False)
class Delivery:
    """One order line's delivery. `method` is the one actually used, set when delivery starts.

    A web-service line stays `pending` while its calls are retried: `next_attempt_at` is when the
    worker calls next, `lease_expires_at` keeps a second worker off a call in flight. A line that
    fell back to the merchant remembers which source failed (`fallback_from`), so a pool upload can
    complete the lines that waited for it.
    """

    line_id: str
    order_id: str
    product_id: str
    quantity: int
    position: int
    status: str = "pending"
    method: str | None = None
    reason: str | None = None
    licenses: list[str] = field(default_factory=list)
    delivered_at: datetime | None = None
    fallback_from: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    lease_expires_at: datetime | None = None
    last_error: str | None = None

    @property
    def is_delivered(self) -> bool:
        return self.status == "delivered"

    @property
    def not_started(self) -> bool:
        return self.status == "pending" and self.method is None

    @property
    def calling_web_service(self) -> bool:
        return self.status == "pending" and self.method == "web_service"

    def deliver(self, method: str, licenses: list[str], now: datetime) -> None:
        if self.is_delivered:
            raise LineAlreadyDelivered(self.line_id)
        if method not in DELIVERY_METHODS:
            raise ValueError(f"unknown delivery method {method!r}")
        self.status, self.method, self.licenses, self.delivered_at = "delivered", method, list(licenses), now
        if method != "manual":
            self.reason = self.fallback_from = None  # the waiting is over: nothing fell back
        self._stop_calling()

    def await_merchant(self, reason: str, fallback_from: str | None = None) -> None:
        """Manual delivery needed (no source, a manual source, or a source that failed)."""
        if self.is_delivered:
            raise LineAlreadyDelivered(self.line_id)
        self.status, self.method, self.reason, self.fallback_from = "awaiting_merchant", "manual", reason, fallback_from
        self._stop_calling()

    def call_web_service(self, now: datetime) -> None:
        """Hand the line to the web-service worker: its first call is due now."""
        if self.is_delivered:
            raise LineAlreadyDelivered(self.line_id)
        self.status, self.method, self.reason, self.fallback_from = "pending", "web_service", None, None
        self.attempts, self.next_attempt_at, self.lease_expires_at, self.last_error = 0, now, None, None

    def retry_web_service_at(self, when: datetime, error: str) -> None:
        self.attempts += 1
        self.next_attempt_at, self.lease_expires_at, self.last_error = when, None, error[:500]

    def _stop_calling(self) -> None:
        self.next_attempt_at = self.lease_expires_at = None


@dataclass(eq=False)
class Order:
    """Fulfillment's copy of an order: owner, lines, and the customer data a license web service gets."""

    order_id: str
    merchant_id: str
    status: str
    created_at: datetime
    email: str | None
    first_name: str | None
    last_name: str | None
    country: str | None
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def is_deleted(self) -> bool:
        return self.status == "deleted"

    @property
    def customer(self) -> dict[str, str | None]:
        """Exactly the `customer` object of a license web service call (docs/integration.md, "License web service")."""
        return {"email": self.email, "first_name": self.first_name, "last_name": self.last_name,
                "country": self.country}

    @property
    def is_paid(self) -> bool:
        return self.status == "paid"

    def mark_paid(self) -> bool:
        """True the first time: the payment that starts fulfillment. A deleted order stays deleted
        (its personal data is gone) but is still delivered if a payment arrives for it."""
        if self.status in ("not_paid",):
            self.status = "paid"
            return True
        return False

    def line(self, line_id: str) -> Delivery | None:
        return next((d for d in self.deliveries if d.line_id == line_id), None)

    def erase(self) -> None:
        """The order was deleted: its customer's personal data goes; lines stay for accounting."""
        self.status = "deleted"
        self.email = self.first_name = self.last_name = self.country = None
