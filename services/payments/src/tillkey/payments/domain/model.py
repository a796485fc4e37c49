"""What payments knows: its copy of each order (only what paying needs), the payment attempts and refunds.

Pure Python: mapped to tables imperatively in adapters/tables.py. The order is the aggregate:
every rule that spans attempts (a new attempt supersedes the open ones; an order is charged at
most once) lives on it, so a caller cannot break them by touching one attempt alone.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tillkey.payments.domain.errors import Conflict, InvalidTransition
from tillkey.payments.domain.refunds import NoPaymentToRefund, Refund, request_problem

__all__ = ["ChargeResult", "InvalidTransition", "Merchant", "Order", "Payment", "Refund"]

PAYMENT_STATUSES = ("pending", "awaiting_funds", "succeeded", "failed", "superseded", "canceled",
                    "refunded", "partially_refunded")
# docs/architecture.md §3: a new attempt supersedes every non-final one; closing the order cancels them.
OPEN_PAYMENT_STATUSES = frozenset({"pending", "awaiting_funds"})
# The money came in (and maybe went back): such an attempt is never decided again.
SETTLED_STATUSES = frozenset({"succeeded", "refunded", "partially_refunded"})
FREE_METHOD = "free"


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
    instructions: dict[str, Any] | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    reference: str | None = None      # bank transfers: what the customer writes on the transfer
    gateway: str | None = None        # card: which gateway adapter took it
    charge_id: str | None = None      # card: the gateway's charge, once it accepted it
    gateway_token: str | None = None  # card: the single-use token, kept only until the gateway answers

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_PAYMENT_STATUSES

    @property
    def awaits_submission(self) -> bool:
        """A card attempt committed here whose charge the gateway has not acknowledged yet."""
        return self.status == "pending" and self.gateway_token is not None and self.charge_id is None

    def _move(self, status: str, at: datetime) -> None:
        self.status, self.updated_at = status, at

    def cancel(self, at: datetime) -> None:
        if not self.is_open:
            raise InvalidTransition(f"payment {self.payment_id} is {self.status}; only open attempts cancel")
        self._move("canceled", at)

    def supersede(self, at: datetime) -> None:
        if not self.is_open:
            raise InvalidTransition(f"payment {self.payment_id} is {self.status}; only open attempts are superseded")
        self._move("superseded", at)

    def record_charge(self, charge_id: str) -> None:
        if self.charge_id is None:
            self.charge_id = charge_id
        self.gateway_token = None  # single-use and spent: nothing to keep

    def fail(self, code: str, message: str, at: datetime) -> bool:
        """True if this attempt now counts as failed (tell the merchant); a superseded or canceled
        attempt keeps its status and only records why (the customer already moved on)."""
        self.gateway_token = None
        if self.status in SETTLED_STATUSES or self.status == "failed":
            return False
        self.failure_code, self.failure_message, self.updated_at = code, message, at
        if self.status != "pending":
            return False
        self._move("failed", at)
        return True

    def succeed(self, at: datetime) -> None:
        """Only the order decides this (it knows whether another attempt already paid)."""
        self.failure_code = self.failure_message = None
        self._move("succeeded", at)

    def apply_refunds(self, refunded: int, at: datetime) -> None:
        if refunded > 0:
            self._move("refunded" if refunded >= self.amount else "partially_refunded", at)


@dataclass(frozen=True)
class ChargeResult:
    accepted: bool               # this charge pays the order: emit payment.succeeded
    refund: Refund | None = None  # an extra charge that must go back to the customer


def order_summary(order: Mapping[str, Any]) -> dict[str, Any]:
    """From order.created: the lines and totals the payment page lists (no personal data)."""
    return {"lines": [{"name": line["name"], "quantity": line["quantity"], "total": line["total"]}
                      for line in order.get("lines", [])],
            "subtotal": order.get("subtotal"), "discount": order.get("discount") or 0, "coupon": order.get("coupon")}


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
    locale: str | None = None  # the customer's language at checkout, for the payment page
    # What the payment page shows of what is being bought: see `order_summary`.
    summary: dict[str, Any] | None = None
    payments: list[Payment] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)

    @property
    def open_payments(self) -> list[Payment]:
        return [p for p in self.payments if p.is_open]

    @property
    def succeeded_payment(self) -> Payment | None:
        return next((p for p in self.payments if p.status in SETTLED_STATUSES and not self._refunded_extra(p)),
                    None)

    def _refunded_extra(self, payment: Payment) -> bool:
        return any(r.payment_id == payment.payment_id and r.automatic for r in self.refunds)

    def ensure_payable(self) -> None:
        if self.status != "not_paid":
            raise Conflict(f"The order is {self.status}; it cannot be paid again.", code=f"order_{self.status}")

    def mark_paid(self) -> None:
        if self.status != "not_paid":
            raise InvalidTransition(f"order {self.order_id} is {self.status}; only an unpaid order is paid")
        self.status = "paid"

    def start_payment(self, payment: Payment, at: datetime) -> list[Payment]:
        """A new attempt; every open one is superseded (the customer switched or retried)."""
        self.ensure_payable()
        superseded = self.open_payments
        for p in superseded:
            p.supersede(at)
        self.payments.append(payment)
        return superseded

    def accept_charge(self, payment: Payment, charge_id: str, refund_id: str, at: datetime) -> ChargeResult:
        """The gateway took the money for `payment`. The order is charged at most once: the first
        success while it is unpaid pays it — even for an attempt superseded meanwhile, since the
        customer did pay — and any other success is an extra charge, refunded at once."""
        payment.record_charge(charge_id)
        # An open attempt has no automatic refund: one is made only for an attempt that is no longer
        # open (`_refund` supersedes it first, `close` refunds a settled one), and none ever opens
        # again. So a notification about an open attempt — nearly all of them — never reads the
        # order's refunds (the repository loads them on first touch; docs/architecture.md 7.8).
        if payment.status in SETTLED_STATUSES or (not payment.is_open and self._refunded_extra(payment)):
            return ChargeResult(False)  # already decided: a repeated notification
        if self.status == "not_paid" and self.succeeded_payment is None:
            for p in self.open_payments:
                if p is not payment:
                    p.supersede(at)
            payment.succeed(at)
            self.mark_paid()
            return ChargeResult(True)
        if payment.is_open:
            payment.supersede(at)
        reason = "duplicate_charge" if self.status in ("paid", "refunded") else f"order_{self.status}"
        return ChargeResult(False, self._refund(payment, refund_id, reason, at))

    def confirm_offline(self, payment: Payment, at: datetime) -> None:
        """Support saw the bank transfer arrive (reconciliation)."""
        if payment.status != "awaiting_funds":
            raise Conflict(f"Only a payment awaiting funds can be confirmed; this one is {payment.status}.",
                           code="payment_not_awaiting_funds")
        self.ensure_payable()
        for p in self.open_payments:
            if p is not payment:
                p.supersede(at)
        payment.succeed(at)
        self.mark_paid()

    def close(self, status: str, at: datetime, refund_ids: Iterator[str]) -> bool:
        """`canceled` or `deleted` as orders decided. Open attempts are canceled with it; an order paid
        here whose payment orders had not seen yet (a race) gets that payment refunded.

        `refund_ids` yields fresh refund ids. Returns False when nothing changed (a repeated event).
        """
        if status not in ("canceled", "deleted"):
            raise ValueError(status)
        if self.status == status:
            return False
        if self.status not in ("not_paid", "paid"):
            raise InvalidTransition(f"order {self.order_id} is {self.status} here; it cannot become {status}")
        paid = self.succeeded_payment if self.status == "paid" else None
        self.status = status
        for payment in self.open_payments:
            payment.cancel(at)
        if paid is not None and paid.amount > 0:
            self._refund(paid, next(refund_ids), f"order_{status}", at)
        return True

    def _refund(self, payment: Payment, refund_id: str, reason: str, at: datetime) -> Refund:
        refund = Refund(refund_id=refund_id, order_id=self.order_id, payment_id=payment.payment_id,
                        amount=payment.amount, currency=payment.currency, status="pending", reason=reason,
                        created_at=at, updated_at=at, automatic=True, gateway=payment.gateway,
                        charge_id=payment.charge_id)
        self.refunds.append(refund)
        return refund

    @property
    def refunded_amount(self) -> int:
        """What support or the merchant refunded of this order (extra charges given back are not the
        order's money and do not count)."""
        return sum(r.amount for r in self.refunds if r.status == "succeeded" and not r.automatic)

    @property
    def fully_refunded(self) -> bool:
        return self.amount > 0 and self.refunded_amount >= self.amount

    def request_refund(self, refund_id: str, amount: int, currency: str, reason: str, at: datetime) -> Refund:
        """Orders asks to refund `amount` (already reserved there) of the order's payment. The refund
        comes back `pending` — through the payment's gateway, or paid out by hand for a bank transfer —
        or already `failed` when it cannot be made (more than is left, another currency, a free
        order): orders is told either way and releases its reservation on failure.
        Raises NoPaymentToRefund when the order has no settled payment here at all."""
        payment = self.succeeded_payment
        if payment is None:
            raise NoPaymentToRefund(f"order {self.order_id} has no settled payment here (it is {self.status})")
        held = sum(r.amount for r in self.refunds if r.payment_id == payment.payment_id and r.holds_amount)
        refund = Refund(refund_id=refund_id, order_id=self.order_id, payment_id=payment.payment_id, amount=amount,
                        currency=currency, status="pending", reason=reason[:500], created_at=at, updated_at=at,
                        gateway=payment.gateway, charge_id=payment.charge_id)
        problem = request_problem(payment.amount, payment.currency, held, amount, currency)
        if problem is not None:
            refund.settle(False, at, problem)
        self.refunds.append(refund)
        return refund

    def settle_refund(self, refund: Refund, succeeded: bool, at: datetime, code: str | None = None,
                      message: str | None = None) -> bool:
        """The gateway's (or support's) word on a pending refund. False when already decided."""
        if not refund.settle(succeeded, at, code, message):
            return False
        payment = next(p for p in self.payments if p.payment_id == refund.payment_id)
        payment.apply_refunds(sum(r.amount for r in self.refunds
                                  if r.payment_id == payment.payment_id and r.status == "succeeded"), at)
        if self.status == "paid" and self.fully_refunded:
            self.status = "refunded"  # docs/architecture.md §3: paid → refunded; a partial refund leaves it paid
        return True

    def confirm_manual_refund(self, refund: Refund, at: datetime) -> None:
        """Support paid a bank-transfer refund out by hand."""
        if not refund.paid_out_by_hand:
            raise Conflict(f"Refund {refund.refund_id} goes through the {refund.gateway} gateway; only "
                           "bank-transfer refunds are confirmed by hand.", code="refund_not_manual")
        if refund.status != "pending":
            raise Conflict(f"Only a pending refund can be confirmed; this one is {refund.status}.",
                           code="refund_not_pending")
        self.settle_refund(refund, True, at)

    def record_free_payment(self, payment_id: str, at: datetime) -> Payment:
        """docs/architecture.md §2.2: a total of 0 needs no payment; we record a `free` one that succeeded."""
        if self.amount != 0:
            raise InvalidTransition(f"order {self.order_id} costs {self.amount}; it is not free")
        self.mark_paid()
        payment = Payment(payment_id=payment_id, order_id=self.order_id, method=FREE_METHOD, status="succeeded",
                          amount=0, currency=self.currency, created_at=at, updated_at=at)
        self.payments.append(payment)
        return payment
