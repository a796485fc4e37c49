"""`/v1/messages`: the message log (admin: all; a merchant: its own orders and its own emails)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from tillkey.notifications.entrypoints import schemas
from tillkey.notifications.service_layer.views import GetOrderOwner, ListMessages
from tillkey.platform.api import endpoint
from tillkey.platform.auth import ensure_sees_order, require

bp = Blueprint("messages", __name__, url_prefix="/v1/messages")
TAGS = ("messages",)


def run(command: Any) -> Any:
    return current_app.extensions["tillkey.notifications"].handle(command)


@bp.get("")
@endpoint(query=schemas.MessageQuery, response=schemas.MessagePage, auth="admin or merchant", tags=TAGS)
def list_(query):
    """Emails sent or owed, newest first; filter by order, recipient address and status."""
    # With order_id, a customer's order token is recognised (and refused: 403) instead of being
    # taken for a bad credential.
    principal = require("admin", "merchant", order_id=query["order_id"])
    if query["order_id"] is not None:
        # Another merchant's order looks exactly like one that does not exist: 404.
        ensure_sees_order(principal, query["order_id"], run(GetOrderOwner(query["order_id"])))
    merchant_id = None if principal.is_admin else principal.merchant_id
    rows, next_cursor = run(ListMessages(merchant_id, **query))
    return {"data": rows, "next_cursor": next_cursor}
