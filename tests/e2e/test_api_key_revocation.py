"""Issue 16 through the real processes: a merchant's second API key works on every service's merchant
API; once revoked through orders, every service refuses it within seconds (each from its own
denylist, fed by merchant.api_key_revoked), while the first key keeps working."""
import pytest

from tillkey.devtools.launcher import wait_until
from tillkey.platform.credentials import api_key_id
from tillkey.testing.api_keys import merchant_reads, seconds_until_refused

pytestmark = pytest.mark.e2e

REFUSED_WITHIN = 10.0   # seconds: the event's trip (outbox, broker, five workers) plus one cache refresh


def test_a_revoked_key_is_refused_by_every_service_within_seconds(client):
    merchant = client.new_merchant()
    first = merchant["api_key"]
    product = client.new_product(first)
    reads = merchant_reads(client.checkout(product["product_id"])["order_id"])
    second = client.call("orders", "POST", "/v1/api-keys", first, json={"name": "CI"}, expect=201).json()
    assert second["key_id"] == api_key_id(second["api_key"])
    # Payments and fulfillment answer the order once they have taken order.created in.
    for service, path in reads.items():
        wait_until(lambda s=service, p=path: client.call(s, "GET", p, second["api_key"]).status_code == 200, 20,
                   f"{service} to answer the second key")

    client.call("orders", "POST", f"/v1/api-keys/{second['key_id']}/revoke", first, expect=200)
    refused = seconds_until_refused(client, second["api_key"], reads)
    print("refused after (s):", {s: round(t, 2) for s, t in refused.items()})
    assert set(refused) == set(reads), f"still accepted by {set(reads) - set(refused)}"
    assert max(refused.values()) < REFUSED_WITHIN, refused
    for service, path in reads.items():
        assert client.call(service, "GET", path, first).status_code == 200, service

    listed = client.call("orders", "GET", "/v1/api-keys", first, expect=200).json()["data"]
    assert {(k["name"], k["status"]) for k in listed} == {("default", "active"), ("CI", "revoked")}
