"""The delivery worker against real HTTP receivers and the real database (SQLite and PostgreSQL)."""
import time

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from tillkey.testing.messaging import sample_envelope, wait_until
from tillkey.webhooks.adapters import tables
from tillkey.webhooks.bootstrap import bootstrap

from .conftest import MERCHANT, Reply, auth, make_settings

pytestmark = pytest.mark.integration
ORDER_EVENT = "evt_00000000000000000000000000000010"


def register(client, url, events=("*",), merchant=MERCHANT):
    resp = client.post("/v1/webhook-endpoints", json={"url": url, "events": list(events)}, headers=auth(merchant))
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def deliveries(client, query=""):
    resp = client.get(f"/v1/webhook-deliveries?{query}", headers=auth())
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["data"]


def settled(client, n=1, query=""):
    """Wait until `n` deliveries matching `query` are no longer pending; return them."""
    return wait_until(lambda: (lambda d: d if len(d) >= n and all(x["status"] != "pending" for x in d) else None)(
        deliveries(client, query)), timeout=20, what=f"{n} settled deliveries")


def test_fails_twice_then_succeeds_with_one_webhook_id(client, service, receivers, start_worker):
    receiver = receivers()
    receiver.script = [Reply(500, body="boom"), Reply(503), Reply(200, body="thanks")]
    ep = register(client, receiver.url)
    service.dispatcher(sample_envelope("order.created", custom={"shop_ref": "A-7"}))
    start_worker(service)
    (delivery,) = settled(client)
    assert delivery["status"] == "succeeded" and delivery["event_id"] == ORDER_EVENT
    assert [a["response_status"] for a in delivery["attempts"]] == [500, 503, 200]
    assert delivery["attempts"][0]["response_excerpt"] == "boom" and delivery["attempts"][2]["error"] is None
    assert all(isinstance(a["duration_ms"], int) and a["attempted_at"].endswith("Z") for a in delivery["attempts"])
    assert len(receiver.hits) == 3
    assert {h.headers["webhook-id"] for h in receiver.hits} == {ORDER_EVENT}
    assert len({h.body for h in receiver.hits}) == 1
    gaps = [b.at - a.at for a, b in zip(receiver.hits, receiver.hits[1:], strict=False)]
    assert all(g >= 0.15 for g in gaps), gaps  # the 0.2 s schedule (±10 % jitter), not a tight loop
    for hit in receiver.hits:
        payload = Webhook(ep["secret"]).verify(hit.body, hit.headers)
        assert payload["sequence"] == 1 and payload["type"] == "order.created"
        assert payload["data"]["custom"] == {"shop_ref": "A-7"} and hit.headers["content-type"] == "application/json"


def test_exhausted_schedule_ends_failed(client, service, receivers, start_worker):
    receiver = receivers()
    receiver.default = Reply(500)
    register(client, receiver.url)
    service.dispatcher(sample_envelope("order.created"))
    start_worker(service)
    (delivery,) = settled(client)
    assert delivery["status"] == "failed" and len(delivery["attempts"]) == 3 and len(receiver.hits) == 3


def test_410_disables_the_endpoint_and_tells_notifications(client, service, receivers, start_worker):
    receiver = receivers()
    receiver.default = Reply(410)
    ep = register(client, receiver.url)
    service.dispatcher(sample_envelope("order.created"))
    start_worker(service)
    (delivery,) = settled(client)
    assert delivery["status"] == "failed" and len(delivery["attempts"]) == 1
    listed = client.get("/v1/webhook-endpoints", headers=auth()).get_json()["data"][0]
    assert listed["enabled"] is False and "410" in listed["disabled_reason"]
    with service.session_factory() as s:
        rows = s.execute(select(tables.outbox.c.routing_key, tables.outbox.c.body)).all()
    assert [r.routing_key for r in rows] == ["webhook_endpoint.disabled"] and ep["endpoint_id"] in rows[0].body
    # A disabled endpoint gets nothing new; re-enabling brings new events again.
    service.dispatcher(sample_envelope("order.deleted"))
    assert len(deliveries(client)) == 1
    client.patch(f"/v1/webhook-endpoints/{ep['endpoint_id']}", json={"enabled": True}, headers=auth())
    receiver.default = Reply(200)
    service.dispatcher(sample_envelope("order.canceled"))
    wait_until(lambda: len(receiver.hits) == 2, what="delivery after re-enabling")


def test_429_retry_after_is_honoured(client, service, receivers, start_worker):
    receiver = receivers()
    receiver.script = [Reply(429, headers={"Retry-After": "1"})]
    register(client, receiver.url)
    service.dispatcher(sample_envelope("order.created"))
    start_worker(service)
    (delivery,) = settled(client)
    assert [a["response_status"] for a in delivery["attempts"]] == [429, 200]
    assert receiver.hits[1].at - receiver.hits[0].at >= 0.95  # the schedule alone would say 0.2 s


def test_a_hanging_endpoint_does_not_delay_another(client, service, receivers, start_worker):
    slow, fast = receivers(), receivers()
    slow.default = Reply(hang=True)
    register(client, slow.url)
    register(client, fast.url)
    service.dispatcher(sample_envelope("order.created"))
    for kind in ("payment.succeeded", "payment.failed", "order.delivered", "order.deleted"):
        service.dispatcher(sample_envelope(kind, new_id=True))
    start_worker(service)
    wait_until(lambda: len(fast.hits) == 5, timeout=10, what="the fast endpoint's five webhooks")
    # All five arrived while the slow endpoint was still holding its first requests (timeout 1 s).
    assert slow.hits and fast.hits[-1].at - slow.hits[0].at < 0.9
    assert [h.json["sequence"] for h in sorted(fast.hits, key=lambda h: h.json["sequence"])] == [1, 2, 3, 4, 5]
    slow_id = client.get("/v1/webhook-endpoints", headers=auth()).get_json()["data"][1]["endpoint_id"]

    def timed_out():
        d = deliveries(client, f"endpoint_id={slow_id}")
        return [a for x in d for a in x["attempts"] if a["error"] and "timed out" in a["error"]]
    wait_until(timed_out, timeout=10, what="the slow endpoint's timeouts recorded")


def test_a_redirect_is_a_failure_and_is_not_followed(client, service, receivers, start_worker):
    target, redirecting = receivers(), receivers()
    redirecting.default = Reply(302, headers={"Location": target.url})
    register(client, redirecting.url)
    service.dispatcher(sample_envelope("order.created"))
    start_worker(service)
    (delivery,) = settled(client)
    assert delivery["status"] == "failed" and [a["response_status"] for a in delivery["attempts"]] == [302] * 3
    assert "not followed" in delivery["attempts"][0]["error"]
    assert target.hits == []


def test_private_address_refused_at_connection_time(client, service, receivers, start_worker):
    # Registered while private addresses were allowed; the worker runs with the guard on.
    receiver = receivers()
    register(client, receiver.url)
    service.dispatcher(sample_envelope("order.created"))
    guarded = bootstrap(make_settings(service.settings.database_url, allow_private_urls=False))
    start_worker(guarded)
    (delivery,) = settled(client)
    assert delivery["status"] == "failed" and receiver.hits == []
    assert all("refused" in a["error"] and "loopback" in a["error"] for a in delivery["attempts"])
    guarded.engine.dispose()


def test_both_secrets_sign_during_rotation(client, service, receivers, start_worker):
    receiver = receivers()
    ep = register(client, receiver.url)
    new = client.post(f"/v1/webhook-endpoints/{ep['endpoint_id']}/rotate-secret", headers=auth()).get_json()
    service.dispatcher(sample_envelope("order.created"))
    start_worker(service)
    wait_until(lambda: receiver.hits, what="the webhook")
    hit = receiver.hits[0]
    assert len(hit.headers["webhook-signature"].split(" ")) == 2
    for secret in (ep["secret"], new["secret"]):
        assert Webhook(secret).verify(hit.body, hit.headers)["id"] == ORDER_EVENT


def test_redeliver_sends_the_same_webhook_id_again(client, service, receivers, start_worker):
    receiver = receivers()
    ep = register(client, receiver.url, events=["order.created"])
    service.dispatcher(sample_envelope("order.created"))
    service.dispatcher(sample_envelope("payment.succeeded"))  # not subscribed: no delivery
    start_worker(service)
    (delivery,) = settled(client)
    resp = client.post(f"/v1/webhook-deliveries/{delivery['delivery_id']}/redeliver", headers=auth())
    assert resp.status_code == 202 and resp.get_json()["status"] == "pending"
    wait_until(lambda: len(receiver.hits) == 2, what="the redelivery")
    assert receiver.hits[0].headers["webhook-id"] == receiver.hits[1].headers["webhook-id"] == ORDER_EVENT
    (again,) = settled(client)
    assert again["status"] == "succeeded" and [a["manual"] for a in again["attempts"]] == [False, True]
    assert Webhook(ep["secret"]).verify(receiver.hits[1].body, receiver.hits[1].headers)


def test_delivery_log_filters_and_ownership(client, service, receivers, start_worker):
    receiver = receivers()
    ep = register(client, receiver.url)
    service.dispatcher(sample_envelope("order.created"))
    service.dispatcher(sample_envelope("order.deleted"))
    assert len(deliveries(client)) == 2
    assert [d["event_type"] for d in deliveries(client, "status=pending")] == ["order.deleted", "order.created"]
    assert deliveries(client, "status=succeeded") == []
    assert [d["event_id"] for d in deliveries(client, f"event_id={ORDER_EVENT}")] == [ORDER_EVENT]
    assert len(deliveries(client, f"endpoint_id={ep['endpoint_id']}")) == 2
    assert deliveries(client, "endpoint_id=ep_other") == []
    page = client.get("/v1/webhook-deliveries?limit=1", headers=auth()).get_json()
    rest = client.get(f"/v1/webhook-deliveries?limit=1&cursor={page['next_cursor']}", headers=auth()).get_json()
    assert page["data"][0]["delivery_id"] != rest["data"][0]["delivery_id"] and rest["next_cursor"] is None
    stranger = auth("mer_Stranger1")
    assert client.get("/v1/webhook-deliveries", headers=stranger).get_json()["data"] == []
    delivery_id = page["data"][0]["delivery_id"]
    for resp, status in [
        (client.post(f"/v1/webhook-deliveries/{delivery_id}/redeliver", headers=stranger), 404),
        (client.post("/v1/webhook-deliveries/whd_missing/redeliver", headers=auth()), 404),
        (client.post(f"/v1/webhook-deliveries/{delivery_id}/redeliver"), 401),
        (client.get("/v1/webhook-deliveries?status=lost", headers=auth()), 422),
        (client.get("/v1/webhook-deliveries?limit=-1", headers=auth()), 422),
        (client.get("/v1/webhook-deliveries?cursor=***", headers=auth()), 422),
    ]:
        assert resp.status_code == status, resp.get_json()
    # Redelivering a delivery whose redelivery is still waiting is a conflict, and changes nothing.
    assert client.post(f"/v1/webhook-deliveries/{delivery_id}/redeliver", headers=auth()).status_code == 202
    assert client.post(f"/v1/webhook-deliveries/{delivery_id}/redeliver", headers=auth()).status_code == 409
    client.delete(f"/v1/webhook-endpoints/{ep['endpoint_id']}", headers=auth())
    assert {d["status"] for d in deliveries(client)} == {"failed"}
    assert client.post(f"/v1/webhook-deliveries/{delivery_id}/redeliver", headers=auth()).status_code == 409
    start_worker(service)
    time.sleep(0.3)  # a worker poll or two: nothing may be sent to a deleted endpoint
    assert receiver.hits == []
