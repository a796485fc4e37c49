"""HTTP views: one blueprint per resource, thin — credentials, lookups, schemas."""
from __future__ import annotations

from flask import Blueprint

from tillkey.contracts import PAYMENT_METHODS
from tillkey.payments.entrypoints.common import service
from tillkey.payments.entrypoints.schemas import PaymentMethodList, PaymentPage
from tillkey.platform.api import endpoint
from tillkey.platform.auth import ensure_sees_order, require
from tillkey.platform.pagination import PageQuery

payment_methods_bp = Blueprint("payment_methods", __name__)
payments_bp = Blueprint("payments", __name__)


@payment_methods_bp.get("/v1/payment-methods")
@endpoint(response=PaymentMethodList, summary="The payment methods a customer can choose from", tags=("payments",))
def list_payment_methods():
    return {"data": list(PAYMENT_METHODS)}


@payments_bp.get("/v1/orders/<order_id>/payments")
@endpoint(query=PageQuery, response=PaymentPage, summary="An order's payment attempts, newest first",
          auth="customer (order token), merchant (own orders) or admin", tags=("payments",))
def list_payments(order_id: str, query: dict):
    principal = require("admin", "merchant", "customer", order_id=order_id)
    with service().uow_factory() as uow:
        order = uow.order(order_id)
        ensure_sees_order(principal, order_id, order.merchant_id if order else None,
                          hidden_from_customer=order is not None and order.status == "deleted")
        items, next_cursor = uow.payments_page(order_id, query["limit"], query["cursor"])
    return {"data": items, "next_cursor": next_cursor}
