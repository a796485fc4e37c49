"""The order: a snapshot of a checked-out cart, with guarded status transitions (docs/architecture.md §3)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from tillkey.orders.domain.carts import Cart, Quote
from tillkey.orders.domain.errors import Conflict, Invalid, NotFound, TooSoon

NOT_PAID, PAID, REFUNDED, CANCELED, DELETED = "not_paid", "paid", "refunded", "canceled", "deleted"
NOT_DELIVERED, PARTIALLY_DELIVERED, DELIVERED = "not_delivered", "partially_delivered", "delivered"
ORDER_STATUSES = (NOT_PAID, PAID, REFUNDED, CANCELED, DELETED)
DELIVERY_STATUSES = (NOT_DELIVERED, PARTIALLY_DELIVERED, DELIVERED)
LINE_PENDING, LINE_AWAITING_MERCHANT, LINE_DELIVERED = "pending", "awaiting_merchant", "delivered"
_LINE_RANK = {LINE_PENDING: 0, LINE_AWAITING_MERCHANT: 1, LINE_DELIVERED: 2}


@dataclass(frozen=True)
class Customer:
    email: str | None
    first_name: str | None
    last_name: str | None
    country: str | None
    company: str | None = None
    vat_id: str | None = None
    locale: str | None = None

    def erased(self) -> Customer:
        """Personal data removed (docs/architecture.md §2.4); country and locale are kept, they identify nobody."""
        return replace(self, email=None, first_name=None, last_name=None, company=None, vat_id=None)


@dataclass(eq=False)
class OrderLine:
    line_id: str
    product_id: str
    name: str
    quantity: int
    unit_price: int
    discount: int
    total: int
    position: int
    delivery_status: str = LINE_PENDING
    # What fulfillment delivered, kept for the order page and for resending the licenses.
    delivery_method: str | None = None
    licenses: list[str] | None = None
    delivery_text: str | None = None
    delivered_at: datetime | None = None

    def await_merchant(self) -> bool:
        """license.requested: the merchant must provide the license. Only forward, so a request that
        arrives after the delivery (events of one producer can still cross on retries) changes nothing."""
        return self._advance(LINE_AWAITING_MERCHANT)

    def deliver(self, method: str, licenses: Sequence[str], text: str | None, at: datetime) -> bool:
        if not self._advance(LINE_DELIVERED):
            return False        # delivered already: the first delivery's licenses stand
        self.delivery_method, self.licenses, self.delivery_text = method, list(licenses), text
        self.delivered_at = at
        return True

    def _advance(self, to: str) -> bool:
        if _LINE_RANK[to] <= _LINE_RANK[self.delivery_status]:
            return False
        self.delivery_status = to
        return True

    @property
    def is_delivered(self) -> bool:
        return self.delivery_status == LINE_DELIVERED


@dataclass(eq=False)
class Order:
    order_id: str
    merchant_id: str
    cart_id: str
    currency: str
    subtotal: int
    discount: int
    total: int
    payment_method: str
    coupon_code: str | None
    customer: Customer
    custom: dict[str, str]
    lines: list[OrderLine]
    created_at: datetime
    updated_at: datetime
    status: str = NOT_PAID
    delivery_status: str = NOT_DELIVERED
    refunded_amount: int = 0
    paid_at: datetime | None = None
    delivered_at: datetime | None = None
    # Refund amounts requested and not yet settled by payments: reserved so that concurrent refunds
    # can never add up to more than the total (the repository reserves by a conditional update).
    refund_reserved: int = 0
    reminder_sent_at: datetime | None = None
    canceled_at: datetime | None = None
    cancel_reason: str | None = None
    deleted_at: datetime | None = None
    last_payment_failure: dict[str, Any] | None = None
    licenses_resent_at: datetime | None = None

    @classmethod
    def place(cls, order_id: str, cart: Cart, quote: Quote, customer: Customer, payment_method: str,
              line_ids: Sequence[str], now: datetime) -> Order:
        """The order of a cart as quoted now; refuses a cart with nothing, or something, not buyable."""
        if not cart.lines:
            raise Invalid("The cart is empty.", field="cart", code="cart_empty")
        problems = quote.problems
        if problems:
            raise Invalid(" ".join(problems), field="cart", code="cart_not_buyable")
        lines = [OrderLine(line_id, q.line.product_id, q.name, q.line.quantity, q.unit_price, q.discount,
                           q.total, position)
                 for position, (line_id, q) in enumerate(zip(line_ids, quote.lines, strict=True), start=1)]
        priced = quote.priced
        return cls(order_id, cart.merchant_id, cart.cart_id, cart.currency, priced.subtotal, priced.discount,
                   priced.total, payment_method, cart.coupon_code, customer, dict(cart.custom), lines,
                   now, now)

    # -- transitions (each refuses a move docs/architecture.md §3 does not allow) ------------
    def _move(self, to: str, allowed_from: tuple[str, ...], now: datetime) -> bool:
        if self.status == to:
            return False        # a duplicate message: already done, no effect
        if self.status not in allowed_from:
            raise Conflict(f"A {self.status.replace('_', ' ')} order cannot become {to.replace('_', ' ')}.",
                           code="order_status")
        self.status = to
        self.updated_at = now
        return True

    def mark_paid(self, now: datetime, method: str | None = None) -> bool:
        moved = self._move(PAID, (NOT_PAID,), now)
        if moved:
            self.paid_at = now
            # The customer may have switched methods on the payment page: show the one that paid.
            self.payment_method = method or self.payment_method
            self.last_payment_failure = None
        return moved

    def record_payment_failure(self, method: str, code: str, message: str, at: datetime) -> bool:
        """Kept for the order page ("your last attempt failed"); the order stays not paid."""
        if self.status != NOT_PAID:
            return False
        self.last_payment_failure = {"method": method, "code": code, "message": message}
        self.updated_at = at
        return True

    def cancel(self, now: datetime, reason: str | None = None) -> bool:
        moved = self._move(CANCELED, (NOT_PAID,), now)
        if moved:
            self.canceled_at, self.cancel_reason = now, reason
        return moved

    def delete_unpaid(self, now: datetime) -> bool:
        moved = self._move(DELETED, (NOT_PAID,), now)
        if moved:
            self.customer = self.customer.erased()
            self.deleted_at = now
        return moved

    def mark_refunded(self, now: datetime) -> bool:
        return self._move(REFUNDED, (PAID,), now)

    def ensure_status(self, allowed: str, action: str) -> None:
        if self.status != allowed:
            raise Conflict(f"Only {allowed.replace('_', ' ')} orders can be {action}; this one is "
                           f"{self.status.replace('_', ' ')}.", code="order_status")

    # -- delivery (orders owns the order's delivery status; fulfillment reports lines) -------------
    def line(self, line_id: str) -> OrderLine:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise NotFound(f"The order {self.order_id} has no line {line_id}.")

    def line_awaits_merchant(self, line_id: str, now: datetime) -> bool:
        moved = self.line(line_id).await_merchant()
        if moved:
            self.updated_at = now
        return moved

    def deliver_line(self, line_id: str, method: str, licenses: Sequence[str], text: str | None,
                     at: datetime) -> bool:
        """Record a line's delivery; True when this completed the order (emit order.delivered then,
        once: the delivery status only moves forward, so a repeat never completes it again)."""
        if not self.line(line_id).deliver(method, licenses, text, at):
            return False
        self.updated_at = at
        delivered = sum(1 for line in self.lines if line.is_delivered)
        if delivered < len(self.lines):
            self.delivery_status = PARTIALLY_DELIVERED
            return False
        self.delivery_status, self.delivered_at = DELIVERED, at
        return True

    @property
    def delivered_lines(self) -> list[OrderLine]:
        return [line for line in sorted(self.lines, key=lambda ln: ln.position) if line.is_delivered]

    def request_licenses_resend(self, now: datetime, cooldown: timedelta | None) -> list[OrderLine]:
        """The delivered lines to email again. `cooldown` (customers): not again within it, so the
        order page's button cannot be used to flood the customer's (or anyone's) mailbox."""
        if self.status != PAID:
            raise Conflict(f"Licenses are sent again for paid orders only; this one is "
                           f"{self.status.replace('_', ' ')}.", code="order_status")
        lines = self.delivered_lines
        if not lines:
            raise Conflict("Nothing has been delivered yet: the licenses are emailed as soon as they are.",
                           code="not_delivered")
        if cooldown is not None and self.licenses_resent_at is not None:
            wait = self.licenses_resent_at + cooldown - now
            if wait.total_seconds() > 0:
                raise TooSoon("The licenses were sent again a moment ago; please check your mailbox.",
                              retry_after=max(1, int(wait.total_seconds() + 0.999)))
        self.licenses_resent_at = now
        return lines

    # -- unpaid orders over time (docs/architecture.md §2.4); the scheduler asks, the order decides ---
    def reminder_due(self, now: datetime, after: timedelta, ttl: timedelta) -> bool:
        """One reminder, after `after`, and none for an order about to be deleted anyway."""
        return (self.status == NOT_PAID and self.reminder_sent_at is None
                and self.created_at + after <= now < self.created_at + ttl)

    def remind(self, now: datetime, after: timedelta, ttl: timedelta) -> bool:
        if not self.reminder_due(now, after, ttl):
            return False
        self.reminder_sent_at = self.updated_at = now
        return True

    def expired(self, now: datetime, ttl: timedelta) -> bool:
        return self.status == NOT_PAID and self.created_at + ttl <= now

    def expire(self, now: datetime, ttl: timedelta) -> bool:
        return self.expired(now, ttl) and self.delete_unpaid(now)

    @property
    def refundable(self) -> int:
        """What is left to refund: neither refunded nor reserved by a pending refund."""
        return max(0, self.total - self.refunded_amount - self.refund_reserved)

    @property
    def visible_to_customer(self) -> bool:
        return self.status != DELETED
