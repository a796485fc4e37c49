"""Coupons (merchant): create, list, switch on and off."""
from __future__ import annotations

from flask import Blueprint

from tillkey.orders.entrypoints import schemas as s
from tillkey.orders.entrypoints.common import authorize, merchant_id, run
from tillkey.orders.service_layer.catalog import CreateCoupon, ListCoupons, UpdateCoupon
from tillkey.platform.api import endpoint
from tillkey.platform.idempotency import idempotent
from tillkey.platform.pagination import PageQuery

bp = Blueprint("coupons", __name__)
TAGS = ("coupons",)


@bp.post("/v1/coupons")
@authorize("merchant")
@idempotent
@endpoint(body=s.CouponIn, response=s.CouponOut, status=201, auth="merchant", tags=TAGS)
def create(body):
    """Create a coupon: percent_off or amount_off per currency; codes ignore case."""
    return run(CreateCoupon(merchant_id(), **body))


@bp.get("/v1/coupons")
@authorize("merchant")
@endpoint(query=PageQuery, response=s.CouponList, auth="merchant", tags=TAGS)
def list_(query):
    """The merchant's coupons, newest first."""
    return run(ListCoupons(merchant_id(), **query))


@bp.patch("/v1/coupons/<code>")
@authorize("merchant")
@endpoint(body=s.CouponPatch, response=s.CouponOut, auth="merchant", tags=TAGS)
def update(code, body):
    """Switch a coupon on or off."""
    return run(UpdateCoupon(merchant_id(), code, body["active"]))
