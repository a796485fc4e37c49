"""The test event (`POST /v1/webhook-endpoints/{id}/ping`) through the real worker to a real receiver,
and the delivery log by order (`GET /v1/webhook-deliveries?order_id=`), on SQLite and PostgreSQL."""
import pytest
from standardwebhooks import Webhook

from tillkey.testing.messaging import sample_envelope

from .conftest import Reply, auth
from .test_delivery import deliveries, register, settled

pytestmark = pytest.mark.integration
ORDER = sample_envelope("order.created").data["order_id"]


def test_ping_is_a_signed_delivery_with_no_sequence(client, service, receivers, start_worker):
    receiver = receivers()
    receiver.script = [Reply(500, body="not yet"), Reply(200, body="pong")]
    ep = register(client, receiver.url, events=("order.created",))     # a ping goes whatever the events
    resp = client.post(f"/v1/webhook-endpoints/{ep['endpoint_id']}/ping", headers=auth())
    assert resp.status_code == 202, resp.get_json()
    queued = resp.get_json()
    assert (queued["event_type"], queued["status"], queued["attempts"]) == ("ping", "pending", [])
    assert queued["payload"]["data"] == {"endpoint_id": ep["endpoint_id"], "url": receiver.url}
    start_worker(service)
    (delivery,) = settled(client)
    assert delivery["delivery_id"] == queued["delivery_id"] and delivery["status"] == "succeeded"
    assert [a["response_status"] for a in delivery["attempts"]] == [500, 200]       # retried like any webhook
    for hit in receiver.hits:
        body = Webhook(ep["secret"]).verify(hit.body, hit.headers)
        assert body["type"] == "ping" and body["sequence"] is None and body["id"] == queued["event_id"]
        assert body["id"].startswith("evt_") and hit.headers["webhook-id"] == body["id"]


def test_ping_refusals_change_nothing(client, receivers):
    ep = register(client, receivers().url)
    path = f"/v1/webhook-endpoints/{ep['endpoint_id']}/ping"
    assert client.post(path, headers=auth("mer_Other1")).status_code == 404     # another merchant's endpoint
    assert client.post("/v1/webhook-endpoints/ep_nothing/ping", headers=auth()).status_code == 404
    assert client.post(path).status_code == 401
    client.patch(f"/v1/webhook-endpoints/{ep['endpoint_id']}", json={"enabled": False}, headers=auth())
    disabled = client.post(path, headers=auth())
    assert disabled.status_code == 409 and disabled.mimetype == "application/problem+json"
    assert deliveries(client) == []


def test_ping_with_an_idempotency_key_is_sent_once(client, receivers):
    ep = register(client, receivers().url)
    path, headers = f"/v1/webhook-endpoints/{ep['endpoint_id']}/ping", {**auth(), "Idempotency-Key": "ping-1"}
    first, second = client.post(path, headers=headers), client.post(path, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.get_json()["delivery_id"] == second.get_json()["delivery_id"] and len(deliveries(client)) == 1


def test_deliveries_of_one_order(client, service, receivers):
    register(client, receivers().url)
    service.dispatcher(sample_envelope("order.created"))
    service.dispatcher(sample_envelope("payment.succeeded", new_id=True))
    other = sample_envelope("order.created", new_id=True, order_id="ord_SecondOrder1")
    service.dispatcher(other)
    ping = client.post(f"/v1/webhook-endpoints/{deliveries(client)[0]['endpoint_id']}/ping", headers=auth())
    assert ping.status_code == 202
    mine = deliveries(client, f"order_id={ORDER}")
    assert [d["event_type"] for d in mine] == ["payment.succeeded", "order.created"]
    assert [d["event_type"] for d in deliveries(client, "order_id=ord_SecondOrder1")] == ["order.created"]
    assert [d["event_type"] for d in deliveries(client, f"order_id={ORDER}&status=failed")] == []
    page = client.get(f"/v1/webhook-deliveries?order_id={ORDER}&limit=1", headers=auth()).get_json()
    rest = client.get(f"/v1/webhook-deliveries?order_id={ORDER}&limit=1&cursor={page['next_cursor']}",
                      headers=auth()).get_json()
    assert [d["event_type"] for d in page["data"] + rest["data"]] == ["payment.succeeded", "order.created"]
    # Another merchant's order, and one not taken in here: 404 (as orders and notifications answer).
    service.dispatcher(sample_envelope("order.created", new_id=True, order_id="ord_Elsewhere1",
                                       merchant_id="mer_Other1"))
    for order_id in ("ord_Elsewhere1", "ord_Unknown1"):
        resp = client.get(f"/v1/webhook-deliveries?order_id={order_id}", headers=auth())
        assert resp.status_code == 404 and resp.mimetype == "application/problem+json", order_id
    for bad in ("order_id=", "order_id=pay_1", "order_id=ord_" + "x" * 61, "order_id=ord_%00"):
        resp = client.get(f"/v1/webhook-deliveries?{bad}", headers=auth())
        assert resp.status_code == 422 and "order_id" in resp.get_json()["errors"], bad
