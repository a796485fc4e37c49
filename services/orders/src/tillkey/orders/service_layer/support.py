"""Support actions and the customer's order page: cancel, refund, resend licenses (docs/architecture.md §2.5–2.7)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tillkey.orders.domain.coupons import code_key
from tillkey.orders.domain.errors import Conflict
from tillkey.orders.domain.orders import NOT_PAID, Order
from tillkey.orders.domain.refunds import Refund, amount_to_refund
from tillkey.orders.service_layer.access import Viewer, ensure_may, visible_order
from tillkey.orders.service_layer.checkout import payment_url
from tillkey.orders.service_layer.ports import Deps, UnitOfWork
from tillkey.orders.service_layer.views import order_page_view, order_view, refund_view


# -- commands and queries (plain data, validated for shape at the edge) --
@dataclass(frozen=True)
class CancelOrder:
    order_id: str
    viewer: Viewer
    reason: str


@dataclass(frozen=True)
class RefundOrder:
    order_id: str
    viewer: Viewer
    reason: str
    amount: int | None = None       # None: all that is left


@dataclass(frozen=True)
class ResendLicenses:
    order_id: str
    viewer: Viewer


@dataclass(frozen=True)
class GetOrderPage:
    order_id: str
    viewer: Viewer


# How soon a customer may have the licenses emailed again (support and the merchant are not limited).
RESEND_COOLDOWN = timedelta(seconds=60)
# A refund that lost a race re-reads what is left and decides again; after this many, it gives up.
_RESERVE_ATTEMPTS = 3


def release_coupon(uow: UnitOfWork, order: Order) -> None:
    """A canceled or deleted order gives its coupon redemption back (docs/architecture.md §4)."""
    if order.coupon_code:
        uow.coupons.release(order.merchant_id, code_key(order.coupon_code))


def cancel_order(cmd: CancelOrder, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    # Locked: a payment.succeeded being applied right now either wins first (409 here) or waits.
    order = visible_order(uow, cmd.order_id, cmd.viewer, lock=True)
    ensure_may(cmd.viewer, "cancel", "admin")
    order.ensure_status(NOT_PAID, "canceled")
    order.cancel(deps.clock.now(), cmd.reason)
    release_coupon(uow, order)
    uow.emit("order.canceled", {"order_id": order.order_id, "merchant_id": order.merchant_id,
                                "reason": cmd.reason})
    uow.commit()
    return order_view(order)


def refund_order(cmd: RefundOrder, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    order = visible_order(uow, cmd.order_id, cmd.viewer)
    ensure_may(cmd.viewer, "refund", "admin", "merchant")
    for _ in range(_RESERVE_ATTEMPTS):
        amount = amount_to_refund(order, cmd.amount)    # 409 unless paid, 422 beyond what is left
        if uow.orders.reserve_refund(order.order_id, amount):
            break
        # Another refund reserved (or the order changed) since we read it: the reservation expired
        # the order's amounts, so the next round decides on what is really left now.
    else:
        raise Conflict("The order is being refunded concurrently; try again.", code="conflict")
    refund = Refund(deps.new_id("re"), order.order_id, order.merchant_id, amount, order.currency, cmd.reason,
                    cmd.viewer.kind, deps.clock.now())
    uow.refunds.add(refund)
    # Payments executes it and answers payment.refunded or refund.failed (see events.py).
    uow.emit("refund.requested", {"order_id": order.order_id, "merchant_id": order.merchant_id,
                                  "refund_id": refund.refund_id, "amount": amount, "currency": order.currency,
                                  "reason": cmd.reason})
    uow.commit()
    return refund_view(refund)


def resend_licenses(cmd: ResendLicenses, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    order = visible_order(uow, cmd.order_id, cmd.viewer, lock=True)
    ensure_may(cmd.viewer, "resend the licenses of", "admin", "merchant", "customer")
    cooldown = RESEND_COOLDOWN if cmd.viewer.kind == "customer" else None
    lines = order.request_licenses_resend(deps.clock.now(), cooldown)
    uow.emit("order.licenses_resend_requested", {
        "order_id": order.order_id, "merchant_id": order.merchant_id,
        "lines": [{"line_id": line.line_id, "product_id": line.product_id, "name": line.name,
                   "licenses": list(line.licenses or []), "text": line.delivery_text} for line in lines],
    })
    uow.commit()
    return {"order_id": order.order_id, "status": "pending", "lines": len(lines)}


def get_order_page(cmd: GetOrderPage, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    order = visible_order(uow, cmd.order_id, cmd.viewer)
    page = order_page_view(order)
    page["payment_url"] = payment_url(deps, order.order_id) if order.status == NOT_PAID else None
    merchant = uow.merchants.get(order.merchant_id)
    page["merchant_name"] = merchant.name if merchant else None
    return page
