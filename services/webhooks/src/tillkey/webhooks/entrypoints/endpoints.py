"""`/v1/webhook-endpoints`: the merchant's endpoints. Views only translate; rules live below."""
from __future__ import annotations

from flask import Blueprint

from tillkey.platform.api import endpoint
from tillkey.platform.auth import require
from tillkey.platform.idempotency import idempotent
from tillkey.platform.pagination import PageQuery
from tillkey.webhooks.entrypoints import schemas
from tillkey.webhooks.entrypoints.common import run
from tillkey.webhooks.service_layer import endpoints as uc
from tillkey.webhooks.service_layer.pinging import Ping
from tillkey.webhooks.service_layer.views import ListEndpoints

bp = Blueprint("webhook_endpoints", __name__, url_prefix="/v1/webhook-endpoints")
TAGS = ("webhook endpoints",)


@bp.post("")
@idempotent
@endpoint(body=schemas.EndpointCreate, response=schemas.EndpointWithSecret, status=201, auth="merchant", tags=TAGS)
def create(body):
    """Register an endpoint; the answer holds its signing secret (shown only here and on rotation)."""
    merchant = require("merchant")
    return run(uc.CreateEndpoint(merchant.merchant_id, body["url"], body["events"], body.get("description")))


@bp.get("")
@endpoint(query=PageQuery, response=schemas.EndpointPage, auth="merchant", tags=TAGS)
def list_(query):
    """The merchant's endpoints, newest first (never their secrets)."""
    merchant = require("merchant")
    return run(ListEndpoints(merchant.merchant_id, query["limit"], query["cursor"]))


@bp.patch("/<endpoint_id>")
@endpoint(body=schemas.EndpointUpdate, response=schemas.EndpointOut, auth="merchant", tags=TAGS)
def update(endpoint_id, body):
    """Change the URL, events or description; `enabled: true` re-enables a disabled endpoint."""
    merchant = require("merchant")
    return run(uc.UpdateEndpoint(merchant.merchant_id, endpoint_id, **body))


@bp.delete("/<endpoint_id>")
@endpoint(status=204, auth="merchant", tags=TAGS)
def delete(endpoint_id):
    """Delete the endpoint; its pending deliveries end `failed`."""
    merchant = require("merchant")
    run(uc.DeleteEndpoint(merchant.merchant_id, endpoint_id))


@bp.post("/<endpoint_id>/rotate-secret")
@endpoint(response=schemas.SecretOut, auth="merchant", tags=TAGS)
def rotate_secret(endpoint_id):
    """A new secret; for 24 h webhooks are signed with both the old and the new one."""
    merchant = require("merchant")
    return run(uc.RotateSecret(merchant.merchant_id, endpoint_id))


@bp.post("/<endpoint_id>/ping")
@idempotent
@endpoint(response=schemas.DeliveryOut, status=202, auth="merchant", tags=TAGS)
def ping(endpoint_id):
    """Send a signed `ping` event to the endpoint now, as a delivery in the log (a disabled endpoint: 409)."""
    merchant = require("merchant")
    return run(Ping(merchant.merchant_id, endpoint_id))
