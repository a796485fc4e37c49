"""Checkout (cart → order) and reading orders."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from tillkey.contracts import PAYMENT_METHOD_CODES
from tillkey.orders.domain.coupons import code_key
from tillkey.orders.domain.errors import Invalid
from tillkey.orders.domain.orders import Customer, Order
from tillkey.orders.service_layer.access import Viewer, ensure_may, visible_order
from tillkey.orders.service_layer.carts import load_cart
from tillkey.orders.service_layer.ports import Deps, OrderFilter, UnitOfWork
from tillkey.orders.service_layer.views import order_view
from tillkey.platform.credentials import make_order_token


# -- commands and queries (plain data, validated for shape at the edge) --
@dataclass(frozen=True)
class CustomerInput:
    email: str
    first_name: str
    last_name: str
    country: str
    company: str | None = None
    vat_id: str | None = None
    locale: str | None = None


@dataclass(frozen=True)
class Checkout:
    cart_id: str
    customer: CustomerInput
    payment_method: str
    terms_accepted: bool
    personal_data_accepted: bool


@dataclass(frozen=True)
class GetOrder:
    order_id: str
    viewer: Viewer


@dataclass(frozen=True)
class ListOrders:
    viewer: Viewer
    status: str | None = None
    delivery_status: str | None = None
    email: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class GetPaymentUrl:
    """The payment page of an order (the checkout page sends a checked-out cart's customer there)."""

    order_id: str


def checkout(cmd: Checkout, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    if not cmd.terms_accepted:
        raise Invalid("The sales terms must be accepted.", field="consents.terms", code="consent_missing")
    if not cmd.personal_data_accepted:
        raise Invalid("Consent to the processing of personal data is needed.", field="consents.personal_data",
                      code="consent_missing")
    if cmd.payment_method not in PAYMENT_METHOD_CODES:
        raise Invalid(f"Choose one of: {', '.join(PAYMENT_METHOD_CODES)}.", field="payment_method")
    now = deps.clock.now()
    order_id = deps.new_id("ord")
    # The cart is claimed for this order at once, by a conditional update that holds its row until
    # commit: a concurrent checkout or change of this cart waits, then finds it checked out. Any
    # refusal below rolls the claim back with the transaction. Its lines' products come with it:
    # read once, after the claim.
    claimed = uow.carts.claim_for_checkout(cmd.cart_id, order_id, now)
    if claimed is None:
        load_cart(uow, cmd.cart_id, lock=False).ensure_open()    # no such cart (404), or checked out (409)
        raise RuntimeError(f"cart {cmd.cart_id} is open but could not be claimed")
    cart, products = claimed
    coupon = uow.coupons.get(cart.merchant_id, code_key(cart.coupon_code)) if cart.coupon_code else None
    quote_ = cart.quote(products, coupon, now)
    if quote_.coupon_problem:
        raise Invalid(quote_.coupon_problem + " Remove it to continue.", field="coupon", code="coupon_unusable")
    customer = Customer(**vars(cmd.customer))
    order = Order.place(order_id, cart, quote_, customer, cmd.payment_method,
                        [deps.new_id("line") for _ in cart.lines], now)
    # The redemption is counted here, by a conditional update: two checkouts racing for the last
    # redemption cannot both pass, whatever they read before.
    if coupon is not None and not uow.coupons.redeem(coupon.merchant_id, coupon.code_key):
        raise Invalid(f"The coupon {coupon.code} has been used up. Remove it to continue.", field="coupon",
                      code="coupon_exhausted")
    uow.orders.add(order)
    view = order_view(order)
    uow.emit("order.created", view)
    uow.commit()
    token = make_order_token(deps.platform_secret, order.order_id)
    return {"order_id": order.order_id, "order_token": token, "payment_url": payment_url(deps, order.order_id),
            "order": view}


def payment_url(deps: Deps, order_id: str) -> str:
    """The customer's payment page for the order (served by payments), with its order token."""
    token = make_order_token(deps.platform_secret, order_id)
    return f"{deps.payments_public_url.rstrip('/')}/pay/{order_id}?token={quote(token)}"


def get_payment_url(cmd: GetPaymentUrl, uow: UnitOfWork, deps: Deps) -> str:
    return payment_url(deps, cmd.order_id)


def get_order(cmd: GetOrder, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    return order_view(visible_order(uow, cmd.order_id, cmd.viewer))


def list_orders(cmd: ListOrders, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    """A merchant's own orders; support (admin) every merchant's, to find a customer's by email."""
    ensure_may(cmd.viewer, "list", "admin", "merchant")
    if cmd.created_from is not None and cmd.created_before is not None and cmd.created_before <= cmd.created_from:
        raise Invalid("created_to is before created_from: no order can match.", field="created_to")
    merchant = None if cmd.viewer.kind == "admin" else cmd.viewer.merchant_id
    which = OrderFilter(merchant, cmd.status, cmd.delivery_status, cmd.email, cmd.created_from, cmd.created_before)
    items, cursor = uow.orders.page(which, cmd.limit, cmd.cursor)
    return {"data": [order_view(o) for o in items], "next_cursor": cursor}
