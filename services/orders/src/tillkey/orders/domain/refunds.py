"""Refunds as orders sees them: requested here, executed by payments, settled by its answer
(docs/architecture.md §2.7)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tillkey.orders.domain.errors import Conflict, Invalid
from tillkey.orders.domain.money import format_amount
from tillkey.orders.domain.orders import PAID, Order

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"


@dataclass(eq=False)
class Refund:
    refund_id: str
    order_id: str
    merchant_id: str
    amount: int
    currency: str
    reason: str
    requested_by: str           # "admin" | "merchant": who asked, for support's records
    created_at: datetime
    status: str = PENDING
    settled_at: datetime | None = None
    failure_code: str | None = None
    failure_message: str | None = None

    def settle(self, succeeded: bool, at: datetime, code: str | None = None, message: str | None = None) -> bool:
        """pending → succeeded | failed, once: a repeated answer from payments has no effect."""
        if self.status != PENDING:
            return False
        self.status, self.settled_at = (SUCCEEDED if succeeded else FAILED), at
        if not succeeded:
            self.failure_code, self.failure_message = code, message
        return True


def amount_to_refund(order: Order, requested: int | None) -> int:
    """The amount a refund request may reserve now: all that is left by default, never more."""
    order.ensure_status(PAID, "refunded")
    left = order.refundable
    if requested is None:
        if left == 0:
            # Paid, but everything is refunded or reserved by refunds still pending at the gateway.
            raise Conflict("Nothing is left to refund: the rest is reserved by pending refunds.",
                           code="nothing_to_refund")
        return left
    if requested > left:
        raise Invalid(f"At most {format_amount(left, order.currency)} is left to refund.", field="amount",
                      code="refund_exceeds_remaining")
    return requested


def settle_refund(order: Order, refund: Refund, succeeded: bool, amount: int, at: datetime,
                  code: str | None = None, message: str | None = None) -> bool:
    """Payments' answer: the reservation is released; on success the refunded amount grows, and the
    order becomes `refunded` when nothing is left (a partial refund keeps it `paid`)."""
    if not refund.settle(succeeded, at, code, message):
        return False
    order.refund_reserved = max(0, order.refund_reserved - refund.amount)
    if succeeded:
        order.refunded_amount = min(order.total, order.refunded_amount + amount)
        if order.refunded_amount >= order.total and order.status == PAID:
            order.mark_refunded(at)
    order.updated_at = at
    return True

