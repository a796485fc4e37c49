"""Every service refuses a revoked API key from its own denylist (docs/architecture.md, "Revoked API
keys"): the real app of each service over its migrated database; the revocation arrives as orders'
`merchant.api_key_revoked` through the service's own inbox handler table (orders revokes by its API)."""
from __future__ import annotations

import time

import pytest

from tests.contract.apps import SECRET, build
from tillkey.platform.credentials import api_key_id, make_api_key
from tillkey.testing.messaging import sample_envelope

pytestmark = pytest.mark.integration

# One merchant call per service; what it answers besides 401 does not matter here.
MERCHANT_CALL = {
    "orders": "/v1/products",
    "payments": "/v1/orders/ord_unknown/payments",
    "fulfillment": "/v1/licenses/keys",
    "notifications": "/v1/messages",
    "webhooks": "/v1/webhook-endpoints",
}


def _refused_within(client, path, headers, seconds):
    deadline = time.monotonic() + seconds
    while True:
        resp = client.get(path, headers=headers)
        if resp.status_code == 401 or time.monotonic() > deadline:
            return resp
        time.sleep(0.1)


@pytest.mark.parametrize("service", list(MERCHANT_CALL))
def test_a_revoked_key_is_refused_and_the_others_still_work(service, tmp_path):
    built = build(service, tmp_path)
    client, path = built.app.test_client(), MERCHANT_CALL[service]
    if service == "orders":
        first = built.headers_for("merchant")
        created = client.post("/v1/api-keys", json={"name": "second"}, headers=first)
        assert created.status_code == 201, created.json
        revoked_key = created.json["api_key"]
    else:
        first = {"Authorization": f"Bearer {make_api_key(SECRET, 'mer_contract')}"}
        revoked_key = make_api_key(SECRET, "mer_contract")
    revoked = {"Authorization": f"Bearer {revoked_key}"}
    assert client.get(path, headers=revoked).status_code != 401

    if service == "orders":
        answer = client.post(f"/v1/api-keys/{api_key_id(revoked_key)}/revoke", headers=first)
        assert answer.status_code == 200 and answer.json["status"] == "revoked"
    else:
        event = sample_envelope("merchant.api_key_revoked", new_id=True, merchant_id="mer_contract",
                                key_id=api_key_id(revoked_key))
        built.app.extensions[f"tillkey.{service}"].dispatcher.handle_batch([event])

    resp = _refused_within(client, path, revoked, seconds=3)
    assert resp.status_code == 401, resp.json
    assert resp.json["code"] == "unauthorized" and resp.json["detail"] == "This API key was revoked."
    assert client.get(path, headers=first).status_code != 401
