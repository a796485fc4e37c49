"""The merchant's orders and each order's story, gathered from the services that hold its parts."""
from __future__ import annotations

import re

from tillkey.dashboard.domain.money import InvalidPrice, to_minor_units
from tillkey.dashboard.service_layer.errors import NotFound, Rejected, Unavailable
from tillkey.dashboard.service_layer.ids import checked
from tillkey.dashboard.service_layer.ports import PlatformApi

ORDER_ID = re.compile(r"^ord_[A-Za-z0-9_-]{1,60}$")
STATUSES = ("not_paid", "paid", "refunded", "canceled")   # what the orders API filters by
WEBHOOK_PAGES = 3     # the webhooks API lists by endpoint or event, not by order: the recent ones are searched


def list_orders(api: PlatformApi, key: str, status: str | None = None, cursor: str | None = None) -> dict:
    params = {"limit": 50}
    if status:
        params["status"] = status
    if cursor:
        params["cursor"] = cursor
    return api.call("orders", "GET", "/v1/orders", key, params=params)


def find_order_id(text: str) -> str | None:
    """The search box: an order id goes straight to its page."""
    text = (text or "").strip()
    return text if ORDER_ID.match(text) else None


def order_story(api: PlatformApi, key: str, order_id: str) -> dict:
    """The order (404 for another merchant's: the orders API decides) with its payments, deliveries and
    webhooks. A part whose service is down is None: the rest of the page still helps."""
    if not ORDER_ID.match(order_id):
        raise NotFound(order_id)
    story = {"order": api.call("orders", "GET", f"/v1/orders/{order_id}", key)}
    story["payments"] = optional_part(lambda: api.call("payments", "GET", f"/v1/orders/{order_id}/payments", key))
    story["deliveries"] = optional_part(lambda: api.call("fulfillment", "GET", f"/v1/orders/{order_id}/deliveries",
                                                         key))
    story["webhooks"] = optional_part(lambda: _webhooks_of(api, key, order_id))
    return story


def optional_part(fetch):
    try:
        return fetch()
    except (Unavailable, NotFound):
        return None


def _webhooks_of(api: PlatformApi, key: str, order_id: str) -> list[dict]:
    found, cursor = [], None
    for _ in range(WEBHOOK_PAGES):
        page = api.call("webhooks", "GET", "/v1/webhook-deliveries", key,
                        params={"limit": 100, **({"cursor": cursor} if cursor else {})})
        for delivery in page.get("data", []):
            data = (delivery.get("payload") or {}).get("data") or {}
            if data.get("order_id") == order_id or (data.get("order") or {}).get("order_id") == order_id:
                found.append(delivery)
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return found


def refund(api: PlatformApi, key: str, order: dict, amount_text: str, reason: str, form_key: str) -> dict:
    """Refund all that is left (blank amount) or part of it. `form_key` is the refund form's own
    random key, sent as the Idempotency-Key: a form sent twice (a double click, a reload) refunds once."""
    errors: dict[str, list[str]] = {}
    body: dict = {"reason": (reason or "").strip()}
    if not body["reason"] or len(body["reason"]) > 500:
        errors["reason"] = ["Say why, in 1 to 500 characters (the customer does not see it)."]
    if (amount_text or "").strip():
        try:
            body["amount"] = to_minor_units(amount_text, order["currency"])
        except InvalidPrice as exc:
            errors["amount"] = [str(exc)]
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", form_key or ""):
        errors["form"] = ["Reload the page and send the form again."]
    if errors:
        raise Rejected("The refund was not started.", errors)
    return api.call("orders", "POST", f"/v1/orders/{order['order_id']}/refund", key, body=body,
                    idempotency_key=f"dashboard-refund-{form_key}")


def deliver_by_hand(api: PlatformApi, key: str, order: dict, line_id: str, pasted: str) -> dict:
    """A line awaiting the merchant gets exactly its quantity of keys (one a line), sent by the
    merchant; fulfillment delivers them and emails the customer."""
    line = next((ln for ln in order.get("lines", []) if ln.get("line_id") == checked(line_id)), None)
    if line is None:
        raise NotFound(line_id)
    keys = [k.strip() for k in (pasted or "").splitlines() if k.strip()]
    if len(keys) != line["quantity"]:
        raise Rejected("The keys were not delivered.",
                       {f"keys_{line_id}": [f"Exactly {line['quantity']} key(s), one a line; got {len(keys)}."]})
    return api.call("fulfillment", "POST", f"/v1/orders/{order['order_id']}/lines/{line_id}/licenses", key,
                    body={"keys": keys}, idempotency_key=f"dashboard-deliver-{order['order_id']}-{line_id}")
