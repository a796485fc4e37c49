"""The merchant's generated keys: list them by product or order, revoke, re-enable, change the
activation limit, list and remove activations (merchant credential; only the merchant's own).

Under /v1/licenses/keys: the public entry already sends /v1/licenses/ to fulfillment (deploy/routing.md)."""
from __future__ import annotations

from flask import Blueprint

from tillkey.fulfillment.domain.errors import Invalid
from tillkey.fulfillment.entrypoints import license_schemas as s
from tillkey.fulfillment.entrypoints.common import (
    calling_merchant,
    credential_first,
    product_owner,
    refusals_as_problems,
    run,
    service,
)
from tillkey.fulfillment.service_layer import key_management as keys
from tillkey.fulfillment.service_layer import views
from tillkey.platform.api import endpoint

bp = Blueprint("license_keys", __name__)
TAGS = ("license keys",)
AUTH = "merchant (own keys)"


def _merchant() -> str:
    return calling_merchant()


@bp.get("/v1/licenses/keys")
@endpoint(query=s.KeysQuery, response=s.MerchantKeyList, auth=AUTH, tags=TAGS)
def list_keys(query: dict):
    """The keys of one product (newest first, paginated) or of one order (in line order): give exactly
    one of `product_id` and `order_id`."""
    merchant_id = _merchant()
    product_id, order_id = query.get("product_id"), query.get("order_id")
    with refusals_as_problems():
        if order_id is not None and product_id is None:
            return service().handle(views.ListOrderKeys(merchant_id, order_id))
        if product_id is None or order_id is not None:  # neither, or both
            raise Invalid({"product_id": ["Give exactly one of product_id and order_id."]})
    product_owner(product_id)
    return run(views.ListProductKeys(product_id, query["limit"], query["cursor"]))


@bp.post("/v1/licenses/keys/<key_id>/revoke")
@endpoint(response=s.MerchantKeyOut, auth=AUTH, tags=TAGS)
def revoke(key_id: str):
    """Revoke the key: validation answers `revoked`, activation is refused (`license.revoked`)."""
    return run(keys.RevokeKey(_merchant(), key_id))


@bp.post("/v1/licenses/keys/<key_id>/reinstate")
@endpoint(response=s.MerchantKeyOut, auth=AUTH, tags=TAGS)
def reinstate(key_id: str):
    """Re-enable a revoked key (409 for a deleted order's key)."""
    return run(keys.ReinstateKey(_merchant(), key_id))


@bp.patch("/v1/licenses/keys/<key_id>")
@credential_first
@endpoint(body=s.KeyChangeIn, response=s.MerchantKeyOut, auth=AUTH, tags=TAGS)
def change(key_id: str, body: dict):
    """Change the key's activation limit; its license token is signed anew."""
    return run(keys.ChangeActivationLimit(_merchant(), key_id, body["activation_limit"]))


@bp.get("/v1/licenses/keys/<key_id>/activations")
@endpoint(response=s.MerchantActivationList, auth=AUTH, tags=TAGS)
def activations(key_id: str):
    """The machines the key is activated on, oldest first."""
    return run(views.ListActivations(_merchant(), key_id))


@bp.delete("/v1/licenses/keys/<key_id>/activations/<activation_id>")
@endpoint(status=204, auth=AUTH, tags=TAGS)
def remove_activation(key_id: str, activation_id: str):
    """Remove one activation, freeing its place (`license.deactivated`)."""
    run(keys.RemoveActivation(_merchant(), key_id, activation_id))
