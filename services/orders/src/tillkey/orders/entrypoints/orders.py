"""Orders: read by their merchant, support (admin) and their customer (order token)."""
from __future__ import annotations

from flask import Blueprint

from tillkey.orders.entrypoints import schemas as s
from tillkey.orders.entrypoints.common import authorize, merchant_id, run
from tillkey.orders.service_layer import commands as c
from tillkey.platform.api import endpoint
from tillkey.platform.auth import require

bp = Blueprint("orders", __name__)
TAGS = ("orders",)


@bp.get("/v1/orders/<order_id>")
@endpoint(response=s.OrderOut, auth="merchant, admin or customer (order token)", tags=TAGS)
def get(order_id):
    """The order. Another merchant's order, or a wrong token, is 404."""
    p = require("admin", "merchant", "customer", order_id=order_id)
    return run(c.GetOrder(order_id, c.Viewer(p.kind, p.merchant_id, p.order_id)))


@bp.get("/v1/orders")
@authorize("merchant")
@endpoint(query=s.OrderListQuery, response=s.OrderList, auth="merchant", tags=TAGS)
def list_(query):
    """The merchant's orders, newest first, optionally by status and delivery status."""
    return run(c.ListOrders(merchant_id(), **query))
