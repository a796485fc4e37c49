"""`POST /v1/gateways/{gateway}/notifications`: a gateway's signed asynchronous results."""
from __future__ import annotations

from flask import Blueprint, request

from tillkey.payments.entrypoints.common import run
from tillkey.payments.service_layer import gateway_results
from tillkey.payments.service_layer.gateway_port import InvalidNotification
from tillkey.platform.problems import ApiError

bp = Blueprint("gateway_notifications", __name__)


@bp.post("/v1/gateways/<gateway>/notifications")
def gateway_notification(gateway: str):
    # The raw bytes, exactly as signed: parsing and re-serializing would break the signature. The
    # headers as the gateways read them, a dict of their items (werkzeug's Headers is no Mapping).
    notification = gateway_results.ApplyGatewayNotification(gateway, dict(request.headers.items()),
                                                            request.get_data(cache=False))
    try:
        outcome = run(notification)
    except InvalidNotification as exc:
        status = 401 if exc.code == "invalid_signature" else 400
        raise ApiError(status, f"Notification refused: {exc.detail}", code=exc.code) from None
    return {"status": outcome}
