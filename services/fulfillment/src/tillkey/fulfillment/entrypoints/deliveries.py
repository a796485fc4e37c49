"""Deliveries of an order's lines: read them, deliver one by hand."""
from __future__ import annotations

from flask import Blueprint

from tillkey.fulfillment.entrypoints.common import calling_merchant, run
from tillkey.fulfillment.entrypoints.schemas import DeliveryList, DeliverySchema, KeysIn
from tillkey.fulfillment.service_layer import merchant, views
from tillkey.platform.api import endpoint
from tillkey.platform.auth import ensure_sees_order, require
from tillkey.platform.idempotency import idempotent

bp = Blueprint("deliveries", __name__)


@bp.get("/v1/orders/<order_id>/deliveries")
@endpoint(response=DeliveryList, summary="Each line's delivery and its licenses, in the order's line order",
          auth="customer (order token), merchant (own orders) or admin", tags=("deliveries",))
def list_deliveries(order_id: str):
    principal = require("admin", "merchant", "customer", order_id=order_id)
    order = run(views.ListDeliveries(order_id))
    ensure_sees_order(principal, order_id, order.merchant_id if order else None,
                      hidden_from_customer=order is not None and order.is_deleted)
    return {"data": order.deliveries, "next_cursor": None}


@bp.post("/v1/orders/<order_id>/lines/<line_id>/licenses")
@idempotent
@endpoint(body=KeysIn, response=DeliverySchema, auth="merchant (own orders)", tags=("deliveries",))
def deliver_by_hand(order_id: str, line_id: str, body: dict):
    """Deliver a paid line yourself: exactly `quantity` keys; 409 once the line is delivered."""
    merchant_id = calling_merchant()
    return run(merchant.DeliverByHand(merchant_id, order_id, line_id, body["keys"]))
