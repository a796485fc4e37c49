"""The endpoints API on a real database: shapes, ownership, validation, idempotency, the URL guard."""
import base64

import pytest

from tillkey.webhooks.entrypoints.app import create_app

from .conftest import auth, make_settings

pytestmark = pytest.mark.integration
URL = "http://127.0.0.1:9/hooks"


def create(client, headers=None, **body):
    body = {"url": URL, "events": ["order.created"], **body}
    return client.post("/v1/webhook-endpoints", json=body, headers=headers or auth())


def listing(client, merchant=None):
    resp = client.get("/v1/webhook-endpoints", headers=auth(*([merchant] if merchant else [])))
    assert resp.status_code == 200
    return resp.get_json()


def test_create_list_patch_rotate_delete(client):
    resp = create(client, events=["order.created", "payment.succeeded"], description="shop")
    assert resp.status_code == 201, resp.get_json()
    ep = resp.get_json()
    assert ep["endpoint_id"].startswith("ep_") and ep["enabled"] is True and ep["description"] == "shop"
    assert ep["events"] == ["order.created", "payment.succeeded"] and ep["created_at"].endswith("Z")
    assert ep["secret"].startswith("whsec_") and len(base64.b64decode(ep["secret"][6:])) >= 24

    page = listing(client)
    assert [e["endpoint_id"] for e in page["data"]] == [ep["endpoint_id"]] and page["next_cursor"] is None
    assert "secret" not in page["data"][0]

    path = f"/v1/webhook-endpoints/{ep['endpoint_id']}"
    off = client.patch(path, json={"enabled": False}, headers=auth())
    assert off.status_code == 200 and off.get_json()["enabled"] is False
    on = client.patch(path, json={"enabled": True, "events": ["*"], "url": "http://127.0.0.1:10/h"}, headers=auth())
    assert on.status_code == 200
    assert on.get_json()["enabled"] is True and on.get_json()["events"] == ["*"]
    assert on.get_json()["url"] == "http://127.0.0.1:10/h" and "secret" not in on.get_json()

    rotated = client.post(f"{path}/rotate-secret", headers=auth())
    assert rotated.status_code == 200
    assert rotated.get_json()["endpoint_id"] == ep["endpoint_id"]
    assert rotated.get_json()["secret"].startswith("whsec_") and rotated.get_json()["secret"] != ep["secret"]

    assert client.delete(path, headers=auth()).status_code == 204
    assert client.delete(path, headers=auth()).status_code == 404
    assert listing(client)["data"] == []


def test_pagination_newest_first(client):
    ids = [create(client).get_json()["endpoint_id"] for _ in range(3)]
    first = client.get("/v1/webhook-endpoints?limit=2", headers=auth()).get_json()
    second = client.get(f"/v1/webhook-endpoints?limit=2&cursor={first['next_cursor']}", headers=auth()).get_json()
    assert [e["endpoint_id"] for e in first["data"] + second["data"]] == list(reversed(ids))
    assert second["next_cursor"] is None


def test_another_merchants_endpoint_is_not_found(client):
    ep = create(client).get_json()
    stranger = auth("mer_Stranger1")
    path = f"/v1/webhook-endpoints/{ep['endpoint_id']}"
    assert client.patch(path, json={"enabled": False}, headers=stranger).status_code == 404
    assert client.post(f"{path}/rotate-secret", headers=stranger).status_code == 404
    assert client.delete(path, headers=stranger).status_code == 404
    assert listing(client, "mer_Stranger1")["data"] == []
    assert listing(client)["data"][0]["enabled"] is True


@pytest.mark.parametrize("body, field", [
    ({"events": ["order.created"]}, "url"),
    ({"url": URL}, "events"),
    ({"url": URL, "events": []}, "events"),
    ({"url": URL, "events": ["order.exploded"]}, "events.0"),
    ({"url": URL, "events": ["webhook_endpoint.disabled"]}, "events.0"),
    ({"url": URL, "events": "order.created"}, "events"),
    ({"url": 42, "events": ["*"]}, "url"),
    ({"url": "ftp://m.example/h", "events": ["*"]}, "url"),
    ({"url": "not a url", "events": ["*"]}, "url"),
    ({"url": URL, "events": ["*"], "secret": "whsec_mine"}, "secret"),
    ({"url": URL, "events": ["*"], "description": "x" * 501}, "description"),
])
def test_bad_create_is_422_and_changes_nothing(client, body, field):
    resp = client.post("/v1/webhook-endpoints", json=body, headers=auth())
    assert resp.status_code == 422, resp.get_json()
    problem = resp.get_json()
    assert resp.mimetype == "application/problem+json" and problem["code"] == "validation_error"
    assert field in problem["errors"]
    assert listing(client)["data"] == []


def test_bad_requests_of_every_kind(client):
    ep = create(client).get_json()
    path = f"/v1/webhook-endpoints/{ep['endpoint_id']}"
    cases = [
        (client.post("/v1/webhook-endpoints", data="{", headers={**auth(), "content-type": "application/json"}), 400),
        (client.post("/v1/webhook-endpoints", data="url=x", headers=auth()), 415),
        (client.post("/v1/webhook-endpoints", json={"url": URL, "events": ["*"]}), 401),
        (client.post("/v1/webhook-endpoints", json={"url": URL, "events": ["*"]},
                     headers={"Authorization": "Bearer tk_mer_x.forged0000000000.AAAA"}), 401),
        (client.post("/v1/webhook-endpoints", json={"url": URL, "events": ["*"]},
                     headers={"Authorization": "Bearer test-admin"}), 403),
        (client.get("/v1/webhook-endpoints?limit=0", headers=auth()), 422),
        (client.get("/v1/webhook-endpoints?limit=201", headers=auth()), 422),
        (client.get("/v1/webhook-endpoints?cursor=%%%", headers=auth()), 422),
        (client.patch(path, json={}, headers=auth()), 422),
        (client.patch(path, json={"enabled": "yes"}, headers=auth()), 422),
        (client.patch(path, json={"enabled": 0}, headers=auth()), 422),
        (client.patch(path, json={"events": ["nope"]}, headers=auth()), 422),
        (client.patch(path, json={"url": "gopher://x"}, headers=auth()), 422),
        (client.patch(path, json={"unknown": 1}, headers=auth()), 422),
        (client.patch("/v1/webhook-endpoints/ep_missing", json={"enabled": False}, headers=auth()), 404),
        (client.post("/v1/webhook-endpoints/ep_missing/rotate-secret", headers=auth()), 404),
        (client.put(path, json={}, headers=auth()), 405),
    ]
    for resp, status in cases:
        assert resp.status_code == status, (resp.request.method, resp.request.path, resp.get_json())
        assert resp.mimetype == "application/problem+json"
    after = client.get("/v1/webhook-endpoints", headers=auth()).get_json()["data"]
    assert len(after) == 1 and after[0]["url"] == URL and after[0]["events"] == ["order.created"]
    assert after[0]["enabled"] is True


def test_idempotency_key(client):
    headers = {**auth(), "Idempotency-Key": "k-1"}
    first = create(client, headers=headers)
    again = create(client, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers.get("Idempotent-Replayed") == "true"
    other_body = create(client, headers=headers, description="different")
    assert other_body.status_code == 422 and other_body.get_json()["code"] == "idempotency_key_reused"
    assert len(listing(client)["data"]) == 1
    # Scoped to the caller: another merchant's identical key is its own request.
    assert create(client, headers={**auth("mer_Other1"), "Idempotency-Key": "k-1"}).status_code == 201


def test_private_urls_are_refused_at_registration(migrated_url):
    app = create_app(make_settings(migrated_url, allow_private_urls=False))
    client = app.test_client()
    for url, words in [("http://127.0.0.1:8080/h", "loopback"), ("http://169.254.169.254/latest", "link-local"),
                       ("http://10.1.2.3/h", "private"), ("http://[fd00::1]/h", "unique local"),
                       ("http://100.64.0.7/h", "carrier-grade NAT"), ("http://localhost/h", "loopback")]:
        resp = client.post("/v1/webhook-endpoints", json={"url": url, "events": ["*"]}, headers=auth())
        assert resp.status_code == 422, url
        assert words in resp.get_json()["errors"]["url"][0] and words in resp.get_json()["detail"]
    assert client.get("/v1/webhook-endpoints", headers=auth()).get_json()["data"] == []
    app.extensions["tillkey.webhooks"].engine.dispose()


def test_openapi_lists_the_calls(client):
    doc = client.get("/openapi.json").get_json()
    assert {"/v1/webhook-endpoints", "/v1/webhook-endpoints/{endpoint_id}",
            "/v1/webhook-endpoints/{endpoint_id}/rotate-secret", "/v1/webhook-deliveries",
            "/v1/webhook-deliveries/{delivery_id}/redeliver"} <= set(doc["paths"])
