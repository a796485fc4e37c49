"""`POST /v1/merchants` (admin)."""
from __future__ import annotations

from flask import Blueprint

from tillkey.orders.entrypoints import schemas as s
from tillkey.orders.entrypoints.common import authorize, run
from tillkey.orders.service_layer import commands as c
from tillkey.platform.api import endpoint
from tillkey.platform.idempotency import idempotent

bp = Blueprint("merchants", __name__)


@bp.post("/v1/merchants")
@authorize("admin")
@idempotent
@endpoint(body=s.MerchantIn, response=s.MerchantOut, status=201, auth="admin", tags=("merchants",))
def register(body):
    """Register a merchant; the answer holds its API key, shown only this once."""
    return run(c.RegisterMerchant(**body))
