"""What payments knows: its copy of each order (only what paying needs) and the payment attempts.

Pure Python: mapped to tables imperatively in adapters/tables.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

PAYMENT_STATUSES = ("pending", "awaiting_funds", "succeeded", "failed", "superseded", "canceled",
                    "refunded", "partially_refunded")
# SPEC §2: a new attempt supersedes every non-final one; closing the order cancels them.
OPEN_PAYMENT_STATUSES = frozenset({"pending", "awaiting_funds"})
FREE_METHOD = "free"


class InvalidTransition(Exception):
    """The aggregate refuses a move its state does not allow."""


@dataclass(eq=False)
class Merchant:
    merchant_id: str
    name: str


@dataclass(eq=False)
class Payment:
    payment_id: str
    order_id: str
    method: str
    status: str
    amount: int
    currency: str
    created_at: datetime
    updated_at: datetime
    instructions: dict | None = None
    failure_code: str | None = None
    failure_message: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_PAYMENT_STATUSES

    def cancel(self, at: datetime) -> None:
        if not self.is_open:
            raise InvalidTransition(f"payment {self.payment_id} is {self.status}; only open attempts cancel")
        self.status, self.updated_at = "canceled", at


@dataclass(eq=False)
class Order:
    """Payments' copy of an order: amount, currency, owner, status and the preselected method."""

    order_id: str
    merchant_id: str
    currency: str
    amount: int
    status: str
    payment_method: str
    created_at: datetime
    payments: list[Payment] = field(default_factory=list)

    @property
    def open_payments(self) -> list[Payment]:
        return [p for p in self.payments if p.is_open]

    def mark_paid(self) -> None:
        if self.status != "not_paid":
            raise InvalidTransition(f"order {self.order_id} is {self.status}; only an unpaid order is paid")
        self.status = "paid"

    def close(self, status: str, at: datetime) -> bool:
        """`canceled` or `deleted` (both only from not_paid); open attempts are canceled with it.

        Returns False when the order already has that status (a repeated event changes nothing).
        """
        if status not in ("canceled", "deleted"):
            raise ValueError(status)
        if self.status == status:
            return False
        if self.status != "not_paid":
            raise InvalidTransition(f"order {self.order_id} is {self.status} here; it cannot become {status}")
        self.status = status
        for payment in self.open_payments:
            payment.cancel(at)
        return True

    def record_free_payment(self, payment_id: str, at: datetime) -> Payment:
        """SPEC §3: a total of 0 needs no payment; we record a `free` one that succeeded."""
        if self.amount != 0:
            raise InvalidTransition(f"order {self.order_id} costs {self.amount}; it is not free")
        self.mark_paid()
        payment = Payment(payment_id=payment_id, order_id=self.order_id, method=FREE_METHOD, status="succeeded",
                          amount=0, currency=self.currency, created_at=at, updated_at=at)
        self.payments.append(payment)
        return payment
