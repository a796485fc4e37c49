"""Carts: anonymous, open to whoever holds the (unguessable) cart id."""
from __future__ import annotations

from flask import Blueprint

from tillkey.orders.entrypoints import schemas as s
from tillkey.orders.entrypoints.common import as_built, run
from tillkey.orders.service_layer.carts import (
    AddCartLine,
    CartLineInput,
    CreateCart,
    GetCart,
    UpdateCart,
    UpdateCartLine,
)
from tillkey.orders.service_layer.checkout import Checkout, CustomerInput
from tillkey.platform.api import endpoint
from tillkey.platform.idempotency import idempotent
from tillkey.platform.rate_limits import client_address, path_value, rate_limited

bp = Blueprint("carts", __name__)
TAGS = ("carts",)


@bp.post("/v1/carts")
@rate_limited(("per_address", client_address))
@idempotent
@endpoint(body=s.CartIn, response=s.CartOut, status=201, tags=TAGS)
def create(body):
    """Start a cart with products of one merchant."""
    lines = [CartLineInput(**line) for line in body.pop("lines")]
    return as_built(run(CreateCart(lines=lines, **body)), 201)


@bp.get("/v1/carts/<cart_id>")
@endpoint(response=s.CartOut, tags=TAGS)
def get(cart_id):
    """The cart, priced now."""
    return run(GetCart(cart_id))


@bp.post("/v1/carts/<cart_id>/lines")
@idempotent
@endpoint(body=s.CartLineIn, response=s.CartOut, tags=TAGS)
def add_line(cart_id, body):
    """Add a product, or raise the quantity of its line; answers the whole cart.

    Idempotent with a key: a retried "add 1" must not become "add 2".
    """
    return run(AddCartLine(cart_id, **body))


@bp.patch("/v1/carts/<cart_id>/lines/<line_id>")
@endpoint(body=s.CartLinePatch, response=s.CartOut, tags=TAGS)
def update_line(cart_id, line_id, body):
    """Set a line's quantity; 0 removes the line."""
    return run(UpdateCartLine(cart_id, line_id, body["quantity"]))


@bp.patch("/v1/carts/<cart_id>")
@endpoint(body=s.CartPatch, response=s.CartOut, tags=TAGS)
def update(cart_id, body):
    """Change the currency (reprices every line) or the coupon (`null` removes it)."""
    return run(UpdateCart(cart_id, **body))


@bp.post("/v1/carts/<cart_id>/checkout")
@rate_limited(("per_address", client_address), ("checkouts_per_cart", path_value("cart_id")))
@idempotent
@endpoint(body=s.CheckoutIn, response=s.CheckoutOut, status=201, tags=TAGS)
def checkout(cart_id, body):
    """Turn the cart into an unpaid order; the answer holds the order token and the payment page."""
    consents = body["consents"]
    return as_built(run(Checkout(cart_id, CustomerInput(**body["customer"]), body["payment_method"],
                                 terms_accepted=consents["terms"], personal_data_accepted=consents["personal_data"])),
                    201)
