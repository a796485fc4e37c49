"""Issue 16 through the real processes: a merchant's second API key works on every service's merchant
API; once revoked through orders, every service refuses it within seconds (each from its own
denylist, fed by merchant.api_key_revoked), while the first key keeps working."""
import time

import pytest

from tillkey.devtools.launcher import wait_until
from tillkey.platform.credentials import api_key_id

pytestmark = pytest.mark.e2e

REFUSED_WITHIN = 10.0   # seconds: the event's trip (outbox, broker, five workers) plus one cache refresh


def merchant_calls(order_id):
    """One merchant read per service's API."""
    return {
        "orders": "/v1/products",
        "payments": f"/v1/orders/{order_id}/payments",
        "fulfillment": f"/v1/orders/{order_id}/deliveries",
        "notifications": "/v1/messages",
        "webhooks": "/v1/webhook-endpoints",
    }


def test_a_revoked_key_is_refused_by_every_service_within_seconds(client):
    merchant = client.new_merchant()
    first = merchant["api_key"]
    product = client.new_product(first)
    order_id = client.checkout(product["product_id"])["order_id"]
    second = client.call("orders", "POST", "/v1/api-keys", first, json={"name": "CI"}, expect=201).json()
    assert second["key_id"] == api_key_id(second["api_key"])
    calls = merchant_calls(order_id)
    # Payments and fulfillment answer the order once they have taken order.created in.
    for service, path in calls.items():
        wait_until(lambda s=service, p=path: client.call(s, "GET", p, second["api_key"]).status_code == 200, 20,
                   f"{service} to answer the second key")

    client.call("orders", "POST", f"/v1/api-keys/{second['key_id']}/revoke", first, expect=200)
    revoked_at = time.monotonic()
    refused_after = {}
    while len(refused_after) < len(calls) and time.monotonic() - revoked_at < 30:
        for service, path in calls.items():
            if service not in refused_after:
                resp = client.call(service, "GET", path, second["api_key"])
                if resp.status_code == 401:
                    assert resp.json() == {**resp.json(), "code": "unauthorized",
                                           "detail": "This API key was revoked."}
                    refused_after[service] = time.monotonic() - revoked_at
        time.sleep(0.1)
    print("refused after (s):", {s: round(t, 2) for s, t in refused_after.items()})
    assert set(refused_after) == set(calls), f"still accepted by {set(calls) - set(refused_after)}"
    assert max(refused_after.values()) < REFUSED_WITHIN, refused_after
    for service, path in calls.items():
        assert client.call(service, "GET", path, first).status_code == 200, service

    listed = client.call("orders", "GET", "/v1/api-keys", first, expect=200).json()["data"]
    assert {(k["name"], k["status"]) for k in listed} == {("default", "active"), ("CI", "revoked")}
