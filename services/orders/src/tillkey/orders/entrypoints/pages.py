"""The checkout link (`/buy/{product_id}`): fills the cart and sends the customer to the checkout page.

Errors here are HTML pages, not problem+json: the customer reached them with a browser.
"""
from __future__ import annotations

import re
from datetime import timedelta

from flask import Blueprint, redirect, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from tillkey.orders.entrypoints import schemas as s
from tillkey.orders.entrypoints.common import run, settings
from tillkey.orders.entrypoints.page_support import error_page
from tillkey.orders.service_layer.carts import OpenCheckoutLink
from tillkey.platform.api import load_query
from tillkey.platform.problems import ApiError, flatten_errors
from tillkey.platform.rate_limits import client_address, rate_limited

bp = Blueprint("pages", __name__, template_folder="templates")
CART_COOKIE_PREFIX = "tk_cart_"
CART_COOKIE_MAX_AGE = timedelta(days=90)
_CUSTOM_PARAM = re.compile(r"^custom\[(.*)\]$")


class BuyQuery(Schema):
    class Meta:
        unknown = EXCLUDE   # links carry other people's parameters too (utm_source, …)

    quantity = fields.Integer(load_default=None, validate=validate.Range(min=1, max=1000))
    currency = s.Currency(load_default=None)
    coupon = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    email = fields.Email(load_default=None, validate=validate.Length(max=320))
    return_url = s.Url(load_default=None)
    clear = fields.Boolean(load_default=False)
    locale = fields.String(load_default=None, validate=validate.Regexp(
        r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$", error="A language tag like en or de-AT."))


def _custom_params() -> dict[str, str]:
    custom = {m.group(1): value for key, value in request.args.items() if (m := _CUSTOM_PARAM.match(key))}
    try:
        return s.Custom().deserialize(custom)
    except ValidationError as exc:
        raise ApiError(422, "The link's custom[…] parameters are invalid.", code="validation_error",
                       errors=flatten_errors(exc.messages, "custom")) from None


def _cart_cookies() -> dict[str, str]:
    """merchant id → cart id: one cart cookie per merchant, so two shops never share a cart."""
    return {name[len(CART_COOKIE_PREFIX):]: value for name, value in request.cookies.items()
            if name.startswith(CART_COOKIE_PREFIX) and value}


@bp.get("/buy/<product_id>")
@rate_limited(("per_address", client_address))  # opening a link may start a cart
def buy(product_id):
    query = load_query(BuyQuery())
    custom = _custom_params()
    if query["locale"]:
        # `de_AT`, `DE` → `de-AT`, `de`: the shape a customer's locale has on the order.
        base, *rest = query["locale"].replace("_", "-").split("-")
        query["locale"] = "-".join([base.lower(), *rest])
    result = run(OpenCheckoutLink(product_id, _cart_cookies(), custom=custom, **query))
    resp = redirect(f"/checkout/{result['cart_id']}", code=303)
    resp.set_cookie(CART_COOKIE_PREFIX + result["merchant_id"], result["cart_id"],
                    max_age=int(CART_COOKIE_MAX_AGE.total_seconds()), httponly=True, samesite="Lax",
                    secure=settings().orders_public_url.startswith("https://"), path="/")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.errorhandler(ApiError)
def _error_page(exc: ApiError):
    return error_page(exc)
