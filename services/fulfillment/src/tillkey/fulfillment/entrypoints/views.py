"""Deliveries of an order's lines: read them, deliver one by hand."""
from __future__ import annotations

from flask import Blueprint

from tillkey.fulfillment.entrypoints.common import calling_merchant, refusals_as_problems, service
from tillkey.fulfillment.entrypoints.schemas import DeliveryList, DeliverySchema, KeysIn
from tillkey.fulfillment.service_layer import merchant
from tillkey.platform.api import endpoint
from tillkey.platform.auth import ensure_sees_order, require
from tillkey.platform.idempotency import idempotent

deliveries_bp = Blueprint("deliveries", __name__)


@deliveries_bp.get("/v1/orders/<order_id>/deliveries")
@endpoint(response=DeliveryList, summary="Each line's delivery and its licenses, in the order's line order",
          auth="customer (order token), merchant (own orders) or admin", tags=("deliveries",))
def list_deliveries(order_id: str):
    principal = require("admin", "merchant", "customer", order_id=order_id)
    with service().uow_factory() as uow:
        order = uow.order_for_reading(order_id)
        generated = [d.line_id for d in order.deliveries if d.method == "generated"] if order else []
        tokens = uow.tokens_of_lines(generated)
    ensure_sees_order(principal, order_id, order.merchant_id if order else None,
                      hidden_from_customer=order is not None and order.is_deleted)
    for line in order.deliveries:
        line.license_tokens = tokens.get(line.line_id, [])  # plain attribute, read by DeliverySchema
    return {"data": order.deliveries, "next_cursor": None}


@deliveries_bp.post("/v1/orders/<order_id>/lines/<line_id>/licenses")
@idempotent
@endpoint(body=KeysIn, response=DeliverySchema, auth="merchant (own orders)", tags=("deliveries",))
def deliver_by_hand(order_id: str, line_id: str, body: dict):
    """Deliver a paid line yourself: exactly `quantity` keys; 409 once the line is delivered."""
    merchant_id = calling_merchant()
    with refusals_as_problems():
        return merchant.deliver_by_hand(service().uow_factory(), merchant_id, order_id, line_id, body["keys"])
