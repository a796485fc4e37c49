"""Refunds: support confirms a bank-transfer refund it paid out by hand (card refunds go through the
gateway)."""
from __future__ import annotations

from flask import Blueprint

from tillkey.payments.entrypoints.common import authorize, run
from tillkey.payments.entrypoints.schemas import RefundSchema
from tillkey.payments.service_layer import refunding
from tillkey.platform.api import endpoint

bp = Blueprint("refunds", __name__)


@bp.post("/v1/refunds/<refund_id>/confirm")
@authorize("admin")
@endpoint(response=RefundSchema, tags=("refunds",), auth="admin",
          summary="Confirm that a bank-transfer refund was paid out by hand (card refunds go through the gateway)")
def confirm_refund(refund_id: str):
    return run(refunding.ConfirmRefund(refund_id))
