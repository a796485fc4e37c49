"""Two delivery workers on one PostgreSQL database: every delivery is sent once (SKIP LOCKED + lease)."""
import pytest

from tillkey.testing.messaging import sample_envelope, wait_until
from tillkey.webhooks.bootstrap import bootstrap

from .conftest import auth, make_settings

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_never_send_one_delivery_twice(client, service, receivers, start_worker):
    receiver = receivers()
    for _ in range(3):
        client.post("/v1/webhook-endpoints", json={"url": receiver.url, "events": ["*"]}, headers=auth())
    service.dispatcher(sample_envelope("order.created"))
    for _ in range(9):
        service.dispatcher(sample_envelope("order.deleted", new_id=True))
    # A 10 s send timeout: under a loaded CI machine a 1 s one expired before the in-process receiver
    # answered, and the retry of a timed-out attempt is a legitimate second send (at least once) —
    # not what this test is about (two workers claiming one delivery).
    first = bootstrap(make_settings(service.settings.database_url, timeout=10.0))
    second = bootstrap(make_settings(service.settings.database_url, timeout=10.0))
    start_worker(first)
    start_worker(second)
    wait_until(lambda: len(receiver.hits) >= 30, timeout=20, what="30 webhooks")
    pending = client.get("/v1/webhook-deliveries?status=pending", headers=auth()).get_json()["data"]
    wait_until(lambda: not client.get("/v1/webhook-deliveries?status=pending", headers=auth()).get_json()["data"],
               what="no pending deliveries")
    sent = [(h.headers["webhook-id"], h.headers["webhook-signature"]) for h in receiver.hits]
    assert len(receiver.hits) == 30 and len(set(sent)) == 30, (len(receiver.hits), pending, _retried(client))
    # Sequences 1..10 once per endpoint.
    assert sorted(h.json["sequence"] for h in receiver.hits) == sorted(list(range(1, 11)) * 3)
    first.engine.dispose()
    second.engine.dispose()


def _retried(client) -> list:
    """Deliveries attempted more than once, with why (a failing run says whether a timeout caused it)."""
    deliveries = client.get("/v1/webhook-deliveries?limit=100", headers=auth()).get_json()["data"]
    return [(d["delivery_id"], [(a["response_status"], a["error"]) for a in d["attempts"]])
            for d in deliveries if len(d["attempts"]) > 1]
