"""`GET /v1/payment-methods`: the methods a customer can choose from."""
from __future__ import annotations

from flask import Blueprint

from tillkey.contracts import PAYMENT_METHODS
from tillkey.payments.entrypoints.schemas import PaymentMethodList
from tillkey.platform.api import endpoint

bp = Blueprint("payment_methods", __name__)


@bp.get("/v1/payment-methods")
@endpoint(response=PaymentMethodList, summary="The payment methods a customer can choose from", tags=("payments",))
def list_payment_methods():
    return {"data": list(PAYMENT_METHODS)}
