"""`/v1/webhook-endpoints`: the merchant's endpoints. Views only translate; rules live below."""
from __future__ import annotations

from flask import Blueprint, current_app

from tillkey.platform.api import endpoint
from tillkey.platform.auth import require
from tillkey.platform.idempotency import idempotent
from tillkey.platform.pagination import PageQuery
from tillkey.platform.problems import refusals_as_problems
from tillkey.webhooks.entrypoints import schemas
from tillkey.webhooks.service_layer import endpoints as uc
from tillkey.webhooks.service_layer import pinging

bp = Blueprint("webhook_endpoints", __name__, url_prefix="/v1/webhook-endpoints")
TAGS = ("webhook endpoints",)


def _service():
    return current_app.extensions["tillkey.webhooks"]


@bp.post("")
@idempotent
@endpoint(body=schemas.EndpointCreate, response=schemas.EndpointWithSecret, status=201, auth="merchant", tags=TAGS)
def create(body):
    """Register an endpoint; the answer holds its signing secret (shown only here and on rotation)."""
    merchant = require("merchant")
    service = _service()
    with refusals_as_problems():
        return uc.create_endpoint(uc.CreateEndpoint(merchant.merchant_id, body["url"], body["events"],
                                                    body.get("description")),
                                  service.uow_factory(), service.check_url)


@bp.get("")
@endpoint(query=PageQuery, response=schemas.EndpointPage, auth="merchant", tags=TAGS)
def list_(query):
    """The merchant's endpoints, newest first (never their secrets)."""
    merchant = require("merchant")
    rows, next_cursor = uc.list_endpoints(merchant.merchant_id, query["limit"], query["cursor"],
                                          _service().uow_factory())
    return {"data": rows, "next_cursor": next_cursor}


@bp.patch("/<endpoint_id>")
@endpoint(body=schemas.EndpointUpdate, response=schemas.EndpointOut, auth="merchant", tags=TAGS)
def update(endpoint_id, body):
    """Change the URL, events or description; `enabled: true` re-enables a disabled endpoint."""
    merchant = require("merchant")
    service = _service()
    with refusals_as_problems():
        return uc.update_endpoint(uc.UpdateEndpoint(merchant.merchant_id, endpoint_id, **body),
                                  service.uow_factory(), service.check_url)


@bp.delete("/<endpoint_id>")
@endpoint(status=204, auth="merchant", tags=TAGS)
def delete(endpoint_id):
    """Delete the endpoint; its pending deliveries end `failed`."""
    merchant = require("merchant")
    with refusals_as_problems():
        uc.delete_endpoint(merchant.merchant_id, endpoint_id, _service().uow_factory())


@bp.post("/<endpoint_id>/rotate-secret")
@endpoint(response=schemas.SecretOut, auth="merchant", tags=TAGS)
def rotate_secret(endpoint_id):
    """A new secret; for 24 h webhooks are signed with both the old and the new one."""
    merchant = require("merchant")
    with refusals_as_problems():
        return uc.rotate_secret(merchant.merchant_id, endpoint_id, _service().uow_factory())


@bp.post("/<endpoint_id>/ping")
@idempotent
@endpoint(response=schemas.DeliveryOut, status=202, auth="merchant", tags=TAGS)
def ping(endpoint_id):
    """Send a signed `ping` event to the endpoint now, as a delivery in the log (a disabled endpoint: 409)."""
    merchant = require("merchant")
    with refusals_as_problems():
        return pinging.ping(merchant.merchant_id, endpoint_id, _service().uow_factory())
