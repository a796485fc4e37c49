"""A product's license source and pool (merchant; the product must be the merchant's)."""
from __future__ import annotations

from flask import Blueprint

from tillkey.fulfillment.entrypoints import schemas as s
from tillkey.fulfillment.entrypoints.common import credential_first, product_owner, run
from tillkey.fulfillment.service_layer import merchant, views
from tillkey.platform.api import endpoint
from tillkey.platform.idempotency import idempotent

bp = Blueprint("products", __name__)
TAGS = ("license sources",)


@bp.put("/v1/products/<product_id>/license-source")
@credential_first
@endpoint(body=s.LicenseSourceIn, response=s.LicenseSourceOut, auth="merchant", tags=TAGS)
def put_source(product_id: str, body: dict):
    """Set how the product's licenses are obtained; a generated web-service secret is shown only here."""
    merchant_id = product_owner(product_id)
    return run(merchant.ConfigureSource(merchant_id, product_id, **body))


@bp.get("/v1/products/<product_id>/license-source")
@endpoint(response=s.LicenseSourceOut, auth="merchant", tags=TAGS)
def get_source(product_id: str):
    """The product's license source (never its secret); without one, lines go to manual delivery."""
    product_owner(product_id)
    return run(views.GetLicenseSource(product_id))


@bp.post("/v1/products/<product_id>/licenses")
@credential_first
@idempotent
@endpoint(body=s.KeysIn, response=s.UploadOut, status=201, auth="merchant", tags=TAGS)
def upload(product_id: str, body: dict):
    """Add keys to the pool (duplicates skipped); lines waiting for the pool are delivered at once."""
    merchant_id = product_owner(product_id)
    return run(merchant.UploadKeys(merchant_id, product_id, body["keys"]))


@bp.get("/v1/products/<product_id>/licenses/stats")
@endpoint(response=s.PoolStats, auth="merchant", tags=TAGS)
def stats(product_id: str):
    """How many keys the pool still holds and how many it handed out."""
    product_owner(product_id)
    return run(views.GetPoolStats(product_id))
