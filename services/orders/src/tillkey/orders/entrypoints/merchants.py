"""`POST /v1/merchants` (admin); `GET`/`PATCH /v1/merchants/me` (the merchant's own settings)."""
from __future__ import annotations

from flask import Blueprint

from tillkey.orders.entrypoints import schemas as s
from tillkey.orders.entrypoints.common import authorize, merchant_id, run
from tillkey.orders.service_layer.catalog import RegisterMerchant
from tillkey.orders.service_layer.merchant_settings import GetMerchant, UpdateMerchant
from tillkey.platform.api import endpoint
from tillkey.platform.idempotency import idempotent

bp = Blueprint("merchants", __name__)


@bp.post("/v1/merchants")
@authorize("admin")
@idempotent
@endpoint(body=s.MerchantIn, response=s.MerchantOut, status=201, auth="admin", tags=("merchants",))
def register(body):
    """Register a merchant; the answer holds its API key, shown only this once."""
    return run(RegisterMerchant(**body))


@bp.get("/v1/merchants/me")
@authorize("merchant")
@endpoint(response=s.MerchantSettings, auth="merchant", tags=("merchants",))
def me():
    """The calling merchant's settings."""
    return run(GetMerchant(merchant_id()))


@bp.patch("/v1/merchants/me")
@authorize("merchant")
@endpoint(body=s.MerchantPatch, response=s.MerchantSettings, auth="merchant", tags=("merchants",))
def update_me(body):
    """Change the name or the https links to the terms of sale and the privacy notice that the
    checkout's consents point to (`null` removes a link)."""
    return run(UpdateMerchant(merchant_id(), body))
