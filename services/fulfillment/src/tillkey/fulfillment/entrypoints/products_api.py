"""A product's license source and pool (merchant; the product must be the merchant's)."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint

from tillkey.fulfillment.entrypoints import schemas as s
from tillkey.fulfillment.entrypoints.common import bearer_token, checked_product_id, domain_errors, service
from tillkey.fulfillment.service_layer import merchant
from tillkey.platform.api import endpoint
from tillkey.platform.auth import require
from tillkey.platform.idempotency import idempotent

bp = Blueprint("products", __name__)
TAGS = ("license sources",)


def _credential_first(view):
    """The credential before the body: a stranger's bad body is a 401, not a 422."""
    @wraps(view)
    def wrapper(**kwargs):
        require("merchant")
        return view(**kwargs)

    wrapper.openapi = view.openapi
    return wrapper


def _owner(product_id: str) -> str:
    """The calling merchant, once the product is known to be theirs (404 otherwise)."""
    merchant_id = require("merchant").merchant_id
    checked_product_id(product_id)
    with domain_errors():
        merchant.ensure_owner(service().uow_factory, service().products, merchant_id, bearer_token(), product_id)
    return merchant_id


@bp.put("/v1/products/<product_id>/license-source")
@_credential_first
@endpoint(body=s.LicenseSourceIn, response=s.LicenseSourceOut, auth="merchant", tags=TAGS)
def put_source(product_id: str, body: dict):
    """Set how the product's licenses are obtained; a generated web-service secret is shown only here."""
    merchant_id = _owner(product_id)
    with domain_errors():
        return merchant.configure_source(service().uow_factory(), merchant_id, product_id, body,
                                         allow_private_urls=service().settings.allow_private_urls)


@bp.get("/v1/products/<product_id>/license-source")
@endpoint(response=s.LicenseSourceOut, auth="merchant", tags=TAGS)
def get_source(product_id: str):
    """The product's license source (never its secret); without one, lines go to manual delivery."""
    _owner(product_id)
    return merchant.read_source(service().uow_factory(), product_id)


@bp.post("/v1/products/<product_id>/licenses")
@_credential_first
@idempotent
@endpoint(body=s.KeysIn, response=s.UploadOut, status=201, auth="merchant", tags=TAGS)
def upload(product_id: str, body: dict):
    """Add keys to the pool (duplicates skipped); lines waiting for the pool are delivered at once."""
    merchant_id = _owner(product_id)
    return merchant.upload_keys(service().uow_factory(), merchant_id, product_id, body["keys"])


@bp.get("/v1/products/<product_id>/licenses/stats")
@endpoint(response=s.PoolStats, auth="merchant", tags=TAGS)
def stats(product_id: str):
    """How many keys the pool still holds and how many it handed out."""
    _owner(product_id)
    return merchant.pool_stats(service().uow_factory(), product_id)
