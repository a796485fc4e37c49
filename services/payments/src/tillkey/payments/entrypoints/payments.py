"""Payment attempts: start one (customer), list an order's; find a bank transfer by its reference and
confirm it (support)."""
from __future__ import annotations

from flask import Blueprint

from tillkey.payments.entrypoints.common import authorize, run
from tillkey.payments.entrypoints.schemas import PaymentPage, PaymentSchema, StartPaymentBody
from tillkey.payments.service_layer import paying, views
from tillkey.platform.api import endpoint
from tillkey.platform.auth import require
from tillkey.platform.idempotency import idempotent
from tillkey.platform.pagination import PageQuery
from tillkey.platform.rate_limits import client_address, path_value, rate_limited

# The name is part of the rate limits' keys (`payment_attempts.start_payment:…`): kept as it was.
bp = Blueprint("payment_attempts", __name__)


@bp.post("/v1/orders/<order_id>/payments")
# Card testing: many cards tried on one order, or from one address. An attempt refused because the
# order is not there yet (409, retried each second by the page) or the database was away is no try.
@rate_limited(("per_address", client_address), ("payments_per_order", path_value("order_id")),
              counts=lambda response: response.status_code not in (409, 429, 503))
@idempotent
@authorize("customer")
@endpoint(body=StartPaymentBody, response=PaymentSchema, status=201, tags=("payments",),
          auth="customer (the order token, `?token=`)",
          summary="Start a payment attempt; it supersedes the order's open ones")
def start_payment(order_id: str, body: dict):
    return run(paying.StartPayment(order_id, body["method"], body.get("payment_token")))


@bp.get("/v1/orders/<order_id>/payments")
@endpoint(query=PageQuery, response=PaymentPage, summary="An order's payment attempts, newest first",
          auth="customer (order token), merchant (own orders) or admin", tags=("payments",))
def list_payments(order_id: str, query: dict):
    principal = require("admin", "merchant", "customer", order_id=order_id)  # after the query's shape (422 first)
    viewer = views.Viewer(principal.kind, principal.merchant_id, principal.order_id)
    items, next_cursor = run(views.ListPayments(order_id, viewer, query["limit"], query["cursor"]))
    return {"data": items, "next_cursor": next_cursor}


@bp.post("/v1/payments/<payment_id>/confirm")
@authorize("admin")
@endpoint(response=PaymentSchema, tags=("payments",), auth="admin",
          summary="Confirm that a bank transfer's money arrived (reconciliation)")
def confirm_payment(payment_id: str):
    return run(paying.ConfirmPayment(payment_id))


@bp.get("/v1/bank-transfers/<reference>")
@authorize("admin")
@endpoint(response=PaymentSchema, tags=("payments",), auth="admin",
          summary="The bank transfer attempt with this reference, and so its order (reconciliation)")
def find_bank_transfer(reference: str):
    return run(paying.FindBankTransfer(reference))
