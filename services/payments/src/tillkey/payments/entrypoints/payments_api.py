"""Payment attempts: start one (customer); find a bank transfer by its reference, confirm it or a bank-transfer
refund (support)."""
from __future__ import annotations

from flask import Blueprint

from tillkey.payments.entrypoints.common import authorize, run
from tillkey.payments.entrypoints.schemas import PaymentSchema, RefundSchema, StartPaymentBody
from tillkey.payments.service_layer import paying, refunding
from tillkey.platform.api import endpoint
from tillkey.platform.idempotency import idempotent
from tillkey.platform.rate_limits import client_address, path_value, rate_limited

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
    return run(paying.start_payment, paying.StartPayment(order_id, body["method"], body.get("payment_token")))


@bp.post("/v1/payments/<payment_id>/confirm")
@authorize("admin")
@endpoint(response=PaymentSchema, tags=("payments",), auth="admin",
          summary="Confirm that a bank transfer's money arrived (reconciliation)")
def confirm_payment(payment_id: str):
    return run(paying.confirm_payment, paying.ConfirmPayment(payment_id))


@bp.post("/v1/refunds/<refund_id>/confirm")
@authorize("admin")
@endpoint(response=RefundSchema, tags=("refunds",), auth="admin",
          summary="Confirm that a bank-transfer refund was paid out by hand (card refunds go through the gateway)")
def confirm_refund(refund_id: str):
    return run(refunding.confirm_refund, refunding.ConfirmRefund(refund_id))


@bp.get("/v1/bank-transfers/<reference>")
@authorize("admin")
@endpoint(response=PaymentSchema, tags=("payments",), auth="admin",
          summary="The bank transfer attempt with this reference, and so its order (reconciliation)")
def find_bank_transfer(reference: str):
    return run(paying.find_bank_transfer, paying.FindBankTransfer(reference))
