"""What fulfillment knows: products (owner, name), and per order what delivering it needs.

Pure Python: mapped to tables imperatively in adapters/tables.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

LINE_STATUSES = ("pending", "awaiting_merchant", "delivered")
DELIVERY_METHODS = ("web_service", "pool", "email", "manual")


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


@dataclass(eq=False)
class Delivery:
    """One order line's delivery. `method` is the one actually used, set when delivery starts."""

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
    def customer(self) -> dict:
        """Exactly the `customer` object of a license web service call (SPEC §4 fulfillment)."""
        return {"email": self.email, "first_name": self.first_name, "last_name": self.last_name,
                "country": self.country}

    def erase(self) -> None:
        """The order was deleted: its customer's personal data goes; lines stay for accounting."""
        self.status = "deleted"
        self.email = self.first_name = self.last_name = self.country = None
