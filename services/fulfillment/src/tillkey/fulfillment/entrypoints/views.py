"""HTTP views: one blueprint per resource, thin — credentials, lookups, schemas."""
from __future__ import annotations

from flask import Blueprint, current_app

from tillkey.fulfillment.entrypoints.schemas import DeliveryList
from tillkey.platform.api import endpoint
from tillkey.platform.auth import ensure_sees_order, require

deliveries_bp = Blueprint("deliveries", __name__)


def _service():
    return current_app.extensions["tillkey.fulfillment"]


@deliveries_bp.get("/v1/orders/<order_id>/deliveries")
@endpoint(response=DeliveryList, summary="Each line's delivery and its licenses, in the order's line order",
          auth="customer (order token), merchant (own orders) or admin", tags=("deliveries",))
def list_deliveries(order_id: str):
    principal = require("admin", "merchant", "customer", order_id=order_id)
    with _service().uow_factory() as uow:
        order = uow.order_for_reading(order_id)
    ensure_sees_order(principal, order_id, order.merchant_id if order else None,
                      hidden_from_customer=order is not None and order.is_deleted)
    return {"data": order.deliveries, "next_cursor": None}
