"""Webhook endpoints and their delivery log, through the webhooks API with the merchant's key."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tillkey.contracts.registry import PUBLIC_EVENT_TYPES
from tillkey.dashboard.service_layer.errors import NotFound, Rejected
from tillkey.dashboard.service_layer.ids import FORM_KEY, checked
from tillkey.dashboard.service_layer.ports import PlatformApi

ALL_EVENTS = "*"
DELIVERY_STATUSES = ("pending", "succeeded", "failed")


def endpoints(api: PlatformApi, key: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:     # a merchant has a handful of endpoints; pages of 200 end this at once
        page = api.call("webhooks", "GET", "/v1/webhook-endpoints", key,
                        params={"limit": 200, **({"cursor": cursor} if cursor else {})})
        found.extend(page.get("data", []))
        cursor = page.get("next_cursor")
        if not cursor:
            return found


def read_endpoint_form(form: Mapping[str, Any]) -> dict[str, Any]:
    """{url, events, description} from the form; `events` is '*' or the ticked event types."""
    errors: dict[str, list[str]] = {}
    url = (form.get("url") or "").strip()
    if not url.startswith(("https://", "http://")) or len(url) > 2048:
        errors["url"] = ["An http(s) URL of at most 2,048 characters."]
    ticked = form.getlist("events") if hasattr(form, "getlist") else form.get("events", [])
    events = [ALL_EVENTS] if ALL_EVENTS in ticked else [e for e in ticked if e in PUBLIC_EVENT_TYPES]
    if not events:
        errors["events"] = ["Choose the events to send, or all of them."]
    description = (form.get("description") or "").strip()
    if len(description) > 500:
        errors["description"] = ["At most 500 characters."]
    if errors:
        raise Rejected("The endpoint was not saved.", errors)
    return {"url": url, "events": events, "description": description or None}


def create_endpoint(api: PlatformApi, key: str, body: dict[str, Any]) -> dict[str, Any]:
    """The new endpoint with its signing secret: shown once, on the answer's page, never stored here."""
    return api.call("webhooks", "POST", "/v1/webhook-endpoints", key, body=body)


def set_enabled(api: PlatformApi, key: str, endpoint_id: str, enabled: bool) -> dict[str, Any]:
    return api.call("webhooks", "PATCH", f"/v1/webhook-endpoints/{checked(endpoint_id)}", key,
                    body={"enabled": enabled})


def endpoint_of(api: PlatformApi, key: str, endpoint_id: str) -> dict[str, Any]:
    """One of the merchant's endpoints (the API has no single read: found in the merchant's list)."""
    found = next((e for e in endpoints(api, key) if e.get("endpoint_id") == checked(endpoint_id)), None)
    if found is None:
        raise NotFound(endpoint_id)
    return found


def update_endpoint(api: PlatformApi, key: str, endpoint_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """URL, events and description from the edit form (an emptied description is cleared)."""
    return api.call("webhooks", "PATCH", f"/v1/webhook-endpoints/{checked(endpoint_id)}", key,
                    body={**body, "description": body.get("description") or ""})


def send_test_event(api: PlatformApi, key: str, endpoint_id: str, form_key: str) -> dict[str, Any]:
    """A signed `ping` to the endpoint now, a delivery in the log like any webhook (docs/integration.md,
    "The ping event"); the form's own key makes a double click one ping."""
    if not FORM_KEY.match(form_key or ""):
        raise Rejected("The test event was not sent: reload the page and try again.")
    return api.call("webhooks", "POST", f"/v1/webhook-endpoints/{checked(endpoint_id)}/ping", key,
                    idempotency_key=f"dashboard-ping-{endpoint_id}-{form_key}")


def rotate_secret(api: PlatformApi, key: str, endpoint_id: str) -> dict[str, Any]:
    return api.call("webhooks", "POST", f"/v1/webhook-endpoints/{checked(endpoint_id)}/rotate-secret", key)


def delete_endpoint(api: PlatformApi, key: str, endpoint_id: str) -> None:
    api.call("webhooks", "DELETE", f"/v1/webhook-endpoints/{checked(endpoint_id)}", key)


def deliveries(api: PlatformApi, key: str, query: Mapping[str, str]) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": 50}
    for name in ("endpoint_id", "event_id", "order_id", "cursor"):
        value = (query.get(name) or "").strip()
        if value and len(value) <= 400:
            params[name] = value
    if query.get("status") in DELIVERY_STATUSES:
        params["status"] = query["status"]
    return api.call("webhooks", "GET", "/v1/webhook-deliveries", key, params=params)


def redeliver(api: PlatformApi, key: str, delivery_id: str) -> dict[str, Any]:
    return api.call("webhooks", "POST", f"/v1/webhook-deliveries/{checked(delivery_id)}/redeliver", key)
