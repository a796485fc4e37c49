"""`/v1/webhook-deliveries`: the merchant's delivery log and redelivery."""
from __future__ import annotations

from flask import Blueprint

from tillkey.platform.api import endpoint
from tillkey.platform.auth import require
from tillkey.webhooks.entrypoints import schemas
from tillkey.webhooks.entrypoints.common import run
from tillkey.webhooks.service_layer.deliveries import Redeliver
from tillkey.webhooks.service_layer.views import ListDeliveries

bp = Blueprint("webhook_deliveries", __name__, url_prefix="/v1/webhook-deliveries")
TAGS = ("webhook deliveries",)


@bp.get("")
@endpoint(query=schemas.DeliveryQueryIn, response=schemas.DeliveryPage, auth="merchant", tags=TAGS)
def list_(query):
    """The merchant's deliveries, newest first, each with its attempts; by endpoint, event, status or order."""
    merchant = require("merchant")
    return run(ListDeliveries(merchant.merchant_id, **query))


@bp.post("/<delivery_id>/redeliver")
@endpoint(response=schemas.DeliveryOut, status=202, auth="merchant", tags=TAGS)
def redeliver(delivery_id):
    """Send the same delivery again (same webhook-id); the worker picks it up at once."""
    merchant = require("merchant")
    return run(Redeliver(merchant.merchant_id, delivery_id))
