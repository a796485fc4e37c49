"""The merchant's orders and each order's story, gathered from the services that hold its parts."""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from tillkey.dashboard.domain.money import InvalidPrice, to_minor_units
from tillkey.dashboard.service_layer.errors import NotFound, Rejected, Unavailable
from tillkey.dashboard.service_layer.ids import FORM_KEY, checked
from tillkey.dashboard.service_layer.ports import PlatformApi

ORDER_ID = re.compile(r"^ord_[A-Za-z0-9_-]{1,60}$")
STATUSES = ("not_paid", "paid", "refunded", "canceled")   # what the orders API filters by


def order_search(args: Mapping[str, str]) -> dict[str, Any]:
    """The orders page's GET form as the orders API's query: `q` an email (or an order id, which the
    page opens instead), `status`, and a day range `created_from`/`created_to` (YYYY-MM-DD, UTC).
    Raises Rejected with the fields to correct; nothing is asked of the API then."""
    params: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    query = (args.get("q") or "").strip()
    if query:
        if "@" in query and len(query) <= 320 and not any(c.isspace() for c in query):
            params["email"] = query
        else:
            errors["q"] = ["An order id (ord_…) or the customer's whole email address."]
    if args.get("status") in STATUSES:
        params["status"] = args["status"]
    days = {}
    for name in ("created_from", "created_to"):
        text = (args.get(name) or "").strip()
        if text:
            try:
                days[name] = date.fromisoformat(text) if len(text) == 10 else None
            except ValueError:
                days[name] = None
            if days[name] is None:
                errors[name] = ["A day as YYYY-MM-DD."]
            else:
                params[name] = text
    first, last = days.get("created_from"), days.get("created_to")
    if first and last and last < first:
        errors["created_to"] = ["Not before the first day."]
    if errors:
        raise Rejected("The search was not made.", errors)
    return params


def list_orders(api: PlatformApi, key: str, search: dict[str, Any] | None = None,
                cursor: str | None = None) -> dict[str, Any]:
    """A page of orders; `key` a merchant's key (its own) or the admin token (every merchant's)."""
    params = {"limit": 50, **(search or {})}
    if cursor:
        params["cursor"] = cursor
    return api.call("orders", "GET", "/v1/orders", key, params=params)


def find_order_id(text: str) -> str | None:
    """The search box: an order id goes straight to its page."""
    text = (text or "").strip()
    return text if ORDER_ID.match(text) else None


def order_story(api: PlatformApi, key: str, order_id: str) -> dict[str, Any]:
    """The order (404 for another merchant's: the orders API decides) with its payments, deliveries and
    webhooks. A part whose service is down is None: the rest of the page still helps."""
    if not ORDER_ID.match(order_id):
        raise NotFound(order_id)
    story: dict[str, Any] = {"order": api.call("orders", "GET", f"/v1/orders/{order_id}", key)}
    story["payments"] = optional_part(lambda: api.call("payments", "GET", f"/v1/orders/{order_id}/payments", key))
    story["deliveries"] = optional_part(lambda: api.call("fulfillment", "GET", f"/v1/orders/{order_id}/deliveries",
                                                         key))
    params = {"order_id": order_id, "limit": 100}
    story["emails"] = taken_in_part(lambda: api.call("notifications", "GET", "/v1/messages", key, params=params))
    story["webhooks"] = taken_in_part(lambda: api.call("webhooks", "GET", "/v1/webhook-deliveries", key,
                                                       params=params))
    return story


def optional_part(fetch: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    try:
        return fetch()
    except (Unavailable, NotFound):
        return None


def taken_in_part(fetch: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """A list a service keeps about the order. The orders API has shown the order is the merchant's,
    so a 404 here means that service has not taken the order in yet (events travel in seconds):
    nothing there yet, rather than a part that could not be loaded."""
    try:
        return fetch()
    except NotFound:
        return {"data": [], "next_cursor": None}
    except Unavailable:
        return None


def refund(api: PlatformApi, key: str, order: dict[str, Any], amount_text: str, reason: str,
           form_key: str) -> dict[str, Any]:
    """Refund all that is left (blank amount) or part of it. `form_key` is the refund form's own
    random key, sent as the Idempotency-Key: a form sent twice (a double click, a reload) refunds once."""
    errors: dict[str, list[str]] = {}
    body: dict[str, Any] = {"reason": (reason or "").strip()}
    if not body["reason"] or len(body["reason"]) > 500:
        errors["reason"] = ["Say why, in 1 to 500 characters (the customer does not see it)."]
    if (amount_text or "").strip():
        try:
            body["amount"] = to_minor_units(amount_text, order["currency"])
        except InvalidPrice as exc:
            errors["amount"] = [str(exc)]
    if not FORM_KEY.match(form_key or ""):
        errors["form"] = ["Reload the page and send the form again."]
    if errors:
        raise Rejected("The refund was not started.", errors)
    return api.call("orders", "POST", f"/v1/orders/{order['order_id']}/refund", key, body=body,
                    idempotency_key=f"dashboard-refund-{form_key}")


def deliver_by_hand(api: PlatformApi, key: str, order: dict[str, Any], line_id: str, pasted: str) -> dict[str, Any]:
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


def resend_licenses(api: PlatformApi, key: str, order: dict[str, Any], form_key: str) -> dict[str, Any]:
    """Email the customer the delivered keys again; the form's own key makes a double click one email."""
    if not FORM_KEY.match(form_key or ""):
        raise Rejected("The licenses were not sent.", {"form": ["Reload the page and send the form again."]})
    return api.call("orders", "POST", f"/v1/orders/{order['order_id']}/resend-licenses", key,
                    idempotency_key=f"dashboard-resend-{form_key}")
