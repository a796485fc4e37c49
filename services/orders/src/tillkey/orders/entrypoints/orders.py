"""Orders: read by their merchant, support (admin) and their customer (order token); support actions."""
from __future__ import annotations

from flask import Blueprint

from tillkey.orders.entrypoints import schemas as s
from tillkey.orders.entrypoints.common import authorize, run, viewer
from tillkey.orders.service_layer.checkout import GetOrder, ListOrders
from tillkey.orders.service_layer.support import CancelOrder, RefundOrder, ResendLicenses
from tillkey.platform.api import endpoint
from tillkey.platform.idempotency import idempotent
from tillkey.platform.rate_limits import client_address, path_value, rate_limited

bp = Blueprint("orders", __name__)
TAGS = ("orders",)
# Who may call at all; the use case then answers 404 to whoever may not see the order and 403 to
# whoever sees it but may not act (a merchant canceling its own order).
ANYONE = ("admin", "merchant", "customer")


@bp.get("/v1/orders/<order_id>")
@authorize(*ANYONE, order_scoped=True)
@endpoint(response=s.OrderOut, auth="merchant, admin or customer (order token)", tags=TAGS)
def get(order_id):
    """The order. Another merchant's order, or a wrong token, is 404."""
    return run(GetOrder(order_id, viewer()))


@bp.get("/v1/orders")
@authorize("merchant", "admin")
@endpoint(query=s.OrderListQuery, response=s.OrderList, auth="merchant (own orders) or admin (every merchant's)",
          tags=TAGS)
def list_(query):
    """Orders newest first, by status, delivery status, the customer's email (exact, ignoring case) and
    when they were created; the merchant's own, or every merchant's for support."""
    return run(ListOrders(viewer(), **query))


@bp.post("/v1/orders/<order_id>/cancel")
@authorize(*ANYONE, order_scoped=True)
@idempotent
@endpoint(body=s.CancelIn, response=s.OrderOut, auth="admin", tags=TAGS)
def cancel(order_id, body):
    """Cancel an unpaid order (support only): its coupon redemption is released, `order.canceled` emitted."""
    return run(CancelOrder(order_id, viewer(), body["reason"]))


@bp.post("/v1/orders/<order_id>/refund")
@authorize(*ANYONE, order_scoped=True)
@idempotent
@endpoint(body=s.RefundIn, response=s.RefundOut, status=202, auth="admin or merchant", tags=TAGS)
def refund(order_id, body):
    """Refund a paid order, all that is left by default. The amount is reserved at once; payments
    executes the refund and the order follows (`payment.refunded`, or `refund.failed` releases it)."""
    return run(RefundOrder(order_id, viewer(), body["reason"], body.get("amount")))


@bp.post("/v1/orders/<order_id>/resend-licenses")
@rate_limited(("per_address", client_address), ("resends_per_order", path_value("order_id")))
@authorize(*ANYONE, order_scoped=True)
@idempotent
@endpoint(response=s.ResendOut, status=202, auth="admin, merchant (own orders) or customer (order token)", tags=TAGS)
def resend_licenses(order_id):
    """Email the delivered licenses of a paid order again (the customer at most once a minute)."""
    return run(ResendLicenses(order_id, viewer()))
