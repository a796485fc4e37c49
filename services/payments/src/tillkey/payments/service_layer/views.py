"""Read models: how payments' objects are shown, in its events, its API lists and its payment page.

The HTTP answers dump the domain objects these return with the schemas of entrypoints/schemas.py; the
event data is built here only, so the same attempt is told alike wherever it is announced.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tillkey.payments.domain.errors import NotFound
from tillkey.payments.domain.model import Order, Payment
from tillkey.payments.domain.refunds import Refund, failure_message
from tillkey.payments.service_layer.ports import Deps, Page, UnitOfWork
from tillkey.platform.visibility import sees_order

# -- event data ---------------------------------------------------------------------------------------


def succeeded_data(order: Order, payment: Payment) -> dict[str, Any]:
    return {"order_id": order.order_id, "merchant_id": order.merchant_id, "payment_id": payment.payment_id,
            "method": payment.method, "amount": payment.amount, "currency": payment.currency}


def failed_data(order: Order, payment: Payment) -> dict[str, Any]:
    return {"order_id": order.order_id, "merchant_id": order.merchant_id, "payment_id": payment.payment_id,
            "method": payment.method, "failure": {"code": payment.failure_code, "message": payment.failure_message}}


def pending_data(order: Order, payment: Payment) -> dict[str, Any]:
    return {"order_id": order.order_id, "merchant_id": order.merchant_id, "payment_id": payment.payment_id,
            "method": payment.method, "instructions": payment.instructions}


def refunded_data(order: Order, payment: Payment, refund: Refund) -> dict[str, Any]:
    return {"order_id": order.order_id, "merchant_id": order.merchant_id, "payment_id": payment.payment_id,
            "method": payment.method, "refund_id": refund.refund_id, "amount": refund.amount,
            "currency": refund.currency, "order_status": "refunded" if order.fully_refunded else "paid"}


def refund_failed_data(order: Order, refund_id: str, amount: int, code: str | None,
                       message: str | None) -> dict[str, Any]:
    return {"order_id": order.order_id, "merchant_id": order.merchant_id, "refund_id": refund_id,
            "amount": amount, "failure": {"code": code, "message": message or failure_message("")}}


# -- an order's payment attempts (the API's list) -----------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """Who asks (docs/architecture.md §5), as the edge identified them: `admin`, `merchant` (with its id)
    or `customer` (with the one order its token is for)."""

    kind: str
    merchant_id: str | None = None
    order_id: str | None = None


@dataclass(frozen=True)
class ListPayments:
    order_id: str
    viewer: Viewer
    limit: int
    cursor: str | None = None


def list_payments(query: ListPayments, uow: UnitOfWork, deps: Deps) -> Page:
    order = uow.orders.get(query.order_id)
    if not _sees(query.viewer, query.order_id, order):
        # Another merchant's order and a customer's deleted order look exactly like a missing one.
        raise NotFound("No such order.")
    return uow.payments.page(query.order_id, query.limit, query.cursor)


def _sees(viewer: Viewer, order_id: str, order: Order | None) -> bool:
    return order is not None and sees_order(viewer, order_id, order.merchant_id,
                                            hidden_from_customer=order.status == "deleted")


# -- the payment page ----------------------------------------------------------------------------------

# What the latest attempt says about the page to show.
_STATE_OF_PAYMENT = {"pending": "pending", "awaiting_funds": "instructions", "failed": "failed"}


@dataclass(frozen=True)
class GetPayPage:
    order_id: str


@dataclass(frozen=True)
class PayPage:
    """What the payment page shows: the order, its latest attempt, and which of the page's states
    (`choose`, `pending`, `instructions`, `failed`, `paid`, `closed`, or `deleted`) it is in."""

    order: Order
    latest: Payment | None
    merchant_name: str | None
    state: str


def pay_page(query: GetPayPage, uow: UnitOfWork, deps: Deps) -> PayPage | None:
    """None: order.created is still on its way from orders."""
    order = uow.orders.get(query.order_id)
    if order is None:
        return None
    if order.status == "deleted":
        return PayPage(order, None, None, "deleted")
    latest = order.payments[-1] if order.payments else None
    merchant = uow.merchants.get(order.merchant_id)
    if order.status in ("paid", "refunded"):
        state = "paid"
    elif order.status == "canceled":
        state = "closed"
    else:
        state = _STATE_OF_PAYMENT.get(latest.status, "choose") if latest else "choose"
    return PayPage(order, latest, merchant.name if merchant is not None else None, state)
