"""The order: a snapshot of a checked-out cart, with guarded status transitions (SPEC §2)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from tillkey.orders.domain.carts import Cart, Quote
from tillkey.orders.domain.errors import Conflict, Invalid

NOT_PAID, PAID, REFUNDED, CANCELED, DELETED = "not_paid", "paid", "refunded", "canceled", "deleted"
NOT_DELIVERED, PARTIALLY_DELIVERED, DELIVERED = "not_delivered", "partially_delivered", "delivered"
ORDER_STATUSES = (NOT_PAID, PAID, REFUNDED, CANCELED, DELETED)
DELIVERY_STATUSES = (NOT_DELIVERED, PARTIALLY_DELIVERED, DELIVERED)


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
        """Personal data removed (SPEC §1.6); country and locale are kept, they identify nobody."""
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
    delivery_status: str = "pending"


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

    # -- transitions (each refuses a move SPEC §2 does not allow) ----------------------------
    def _move(self, to: str, allowed_from: tuple[str, ...], now: datetime) -> bool:
        if self.status == to:
            return False        # a duplicate message: already done, no effect
        if self.status not in allowed_from:
            raise Conflict(f"A {self.status.replace('_', ' ')} order cannot become {to.replace('_', ' ')}.",
                           code="order_status")
        self.status = to
        self.updated_at = now
        return True

    def mark_paid(self, now: datetime) -> bool:
        moved = self._move(PAID, (NOT_PAID,), now)
        if moved:
            self.paid_at = now
        return moved

    def cancel(self, now: datetime) -> bool:
        return self._move(CANCELED, (NOT_PAID,), now)

    def delete_unpaid(self, now: datetime) -> bool:
        moved = self._move(DELETED, (NOT_PAID,), now)
        if moved:
            self.customer = self.customer.erased()
        return moved

    def mark_refunded(self, now: datetime) -> bool:
        return self._move(REFUNDED, (PAID,), now)

    @property
    def visible_to_customer(self) -> bool:
        return self.status != DELETED
