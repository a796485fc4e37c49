"""`/v1/webhook-deliveries`: the merchant's delivery log and redelivery."""
from __future__ import annotations

from flask import Blueprint, current_app

from tillkey.platform.api import endpoint
from tillkey.platform.auth import require
from tillkey.platform.problems import refusals_as_problems
from tillkey.webhooks.entrypoints import schemas
from tillkey.webhooks.service_layer import deliveries as uc

bp = Blueprint("webhook_deliveries", __name__, url_prefix="/v1/webhook-deliveries")
TAGS = ("webhook deliveries",)


def _uow():
    return current_app.extensions["tillkey.webhooks"].uow_factory()


@bp.get("")
@endpoint(query=schemas.DeliveryQueryIn, response=schemas.DeliveryPage, auth="merchant", tags=TAGS)
def list_(query):
    """The merchant's deliveries, newest first, each with its attempts; by endpoint, event, status or order."""
    merchant = require("merchant")
    with refusals_as_problems():
        rows, next_cursor = uc.list_deliveries(uc.DeliveryQuery(merchant.merchant_id, **query), _uow())
    return {"data": rows, "next_cursor": next_cursor}


@bp.post("/<delivery_id>/redeliver")
@endpoint(response=schemas.DeliveryOut, status=202, auth="merchant", tags=TAGS)
def redeliver(delivery_id):
    """Send the same delivery again (same webhook-id); the worker picks it up at once."""
    merchant = require("merchant")
    with refusals_as_problems():
        return uc.redeliver(merchant.merchant_id, delivery_id, _uow())
