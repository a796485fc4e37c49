"""A refund of (part of) one payment: through the payment's gateway, or paid out by hand."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tillkey.payments.domain.errors import Conflict

REFUND_STATUSES = ("pending", "succeeded", "failed")
# The amount of a payment a refund holds while it is decided or once it went through: what is
# left to refund never counts these twice (the gateway reserves the same way).
HOLDING_STATUSES = frozenset({"pending", "succeeded"})

# What a refund request can fail with before any money moves (refund.failed tells orders).
FAILURE_MESSAGES = {
    "no_payment": "The order has no payment that can be refunded.",
    "nothing_to_refund": "Nothing is left to refund on this payment.",
    "amount_too_large": "The amount is more than what is left to refund on the payment.",
    "currency_mismatch": "The refund is not in the payment's currency.",
    "refund_declined": "The gateway refused the refund.",
}
DEFAULT_FAILURE_MESSAGE = "The refund could not be made."


def failure_message(code: str, gateway_message: str | None = None) -> str:
    return (gateway_message or FAILURE_MESSAGES.get(code) or DEFAULT_FAILURE_MESSAGE)[:500]


class NoPaymentToRefund(Conflict):
    """The order has no settled payment here: there is no row a refund could belong to."""

    code = "no_payment"


@dataclass(eq=False)
class Refund:
    refund_id: str
    order_id: str
    payment_id: str
    amount: int
    currency: str
    status: str  # pending | succeeded | failed
    reason: str
    created_at: datetime
    updated_at: datetime
    automatic: bool = False  # True: we give back an extra charge; False: support or the merchant asked
    gateway: str | None = None           # None: paid out by hand (bank transfer)
    charge_id: str | None = None
    gateway_refund_id: str | None = None  # set once the gateway accepted it
    failure_code: str | None = None
    failure_message: str | None = None

    @property
    def awaits_submission(self) -> bool:
        return self.status == "pending" and self.gateway is not None and self.gateway_refund_id is None

    @property
    def paid_out_by_hand(self) -> bool:
        """No gateway takes it back (a bank transfer): support pays it out and confirms it."""
        return self.gateway is None

    @property
    def holds_amount(self) -> bool:
        return self.status in HOLDING_STATUSES

    def settle(self, succeeded: bool, at: datetime, code: str | None = None, message: str | None = None) -> bool:
        """False when already decided (a repeated notification)."""
        if self.status != "pending":
            return False
        self.status, self.updated_at = ("succeeded" if succeeded else "failed"), at
        if not succeeded:
            self.failure_code = code or "refund_failed"
            self.failure_message = failure_message(self.failure_code, message)
        return True


def request_problem(payment_amount: int, payment_currency: str, held: int, amount: int,
                    currency: str) -> str | None:
    """Why a requested refund of `amount` cannot be made on a payment (`held`: already refunded or
    being refunded), as a failure code; None when it can."""
    if currency != payment_currency:
        return "currency_mismatch"
    left = payment_amount - held
    if left <= 0 or amount <= 0:
        return "nothing_to_refund"  # e.g. a free order: a 0 payment has nothing to give back
    if amount > left:
        return "amount_too_large"
    return None
