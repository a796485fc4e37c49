"""The worker process's loops on the real broker: consumer → deliveries → HTTP, and the relay."""
import uuid

import pytest

from tillkey.messaging import Consumer
from tillkey.testing.messaging import (
    CountingHandler,
    bind_probe,
    declare_fresh,
    drain,
    publish,
    running,
    sample_envelope,
    wait_until,
)
from tillkey.webhooks.adapters.delivery_worker import DeliveryWorker
from tillkey.webhooks.bootstrap import bootstrap, build_workers
from tillkey.webhooks.entrypoints.app import create_app

from .conftest import MERCHANT, Reply, auth, make_settings

pytestmark = pytest.mark.integration
FAST_RETRIES = (0.3, 0.3, 0.3, 0.3, 0.3)


@pytest.fixture
def wiring(migrated_url, amqp_url):
    settings = make_settings(migrated_url, amqp_url=amqp_url)
    name = f"webhooks-{uuid.uuid4().hex[:8]}"  # its own queues: no other test's leftovers
    app = create_app(settings)
    yield settings, name, app.test_client()
    app.extensions["tillkey.webhooks"].engine.dispose()


def test_an_event_for_an_unseen_order_waits_for_order_created(wiring, receivers):
    settings, name, client = wiring
    receiver = receivers()
    client.post("/v1/webhook-endpoints", json={"url": receiver.url, "events": ["*"]}, headers=auth())
    service = bootstrap(settings, service_name=name, retry_delays=FAST_RETRIES)
    declare_fresh(settings.amqp_url, service.topology)
    counting = CountingHandler(service.dispatcher)
    consumer = Consumer(settings.amqp_url, service.topology, counting)
    worker = DeliveryWorker(service.handle, service.sender, service.clock, schedule=(0.2,), timeout=1.0,
                            poll_interval=0.05)
    paid = sample_envelope("payment.succeeded")
    created = sample_envelope("order.created")
    with running(consumer=consumer, delivery=worker):
        publish(settings.amqp_url, paid)
        # Taken in and refused (RetryLater) at least twice: it waits on the broker's retry path.
        wait_until(lambda: counting.seen.count(paid.id) >= 2, what="payment.succeeded retried")
        assert receiver.hits == []
        publish(settings.amqp_url, created)
        wait_until(lambda: len(receiver.hits) == 2, what="both webhooks")
    by_type = {h.json["type"]: h.json for h in receiver.hits}
    assert by_type["order.created"]["sequence"] == 1 and by_type["payment.succeeded"]["sequence"] == 2
    assert by_type["payment.succeeded"]["data"]["custom"] == {"shop_ref": "A-1001"}
    assert "merchant_id" not in by_type["payment.succeeded"]["data"]
    service.engine.dispose()


def test_worker_command_loops_deliver_and_relay_the_disabled_event(wiring, receivers):
    settings, name, client = wiring
    receiver = receivers()
    receiver.default = Reply(410)
    ep = client.post("/v1/webhook-endpoints", json={"url": receiver.url, "events": ["order.created"]},
                     headers=auth()).get_json()
    probe = bind_probe(settings.amqp_url, "webhook_endpoint.disabled")
    loops = build_workers(settings, service_name=name, retry_delays=FAST_RETRIES)
    assert set(loops) == {"consumer", "relay", "delivery", "dead-letters", "inbox-retention"}
    declare_fresh(settings.amqp_url, loops["consumer"].topology)
    created = sample_envelope("order.created")
    with running(**loops):
        publish(settings.amqp_url, created, times=2)  # a duplicate: the inbox makes it harmless
        (event,) = drain(settings.amqp_url, probe, expect=1)
    assert event["data"] == {"merchant_id": MERCHANT, "endpoint_id": ep["endpoint_id"],
                             "url": receiver.url, "reason": "the endpoint answered 410 Gone"}
    assert event["causation_id"] is None and event["producer"] == "webhooks"
    assert len(receiver.hits) == 1 and receiver.hits[0].json["id"] == created.id
    deliveries = client.get("/v1/webhook-deliveries", headers=auth()).get_json()["data"]
    assert len(deliveries) == 1 and deliveries[0]["status"] == "failed"


def test_the_consumer_hands_new_deliveries_to_the_worker_without_a_claim(wiring, receivers):
    settings, name, client = wiring
    receiver = receivers()
    client.post("/v1/webhook-endpoints", json={"url": receiver.url, "events": ["*"]}, headers=auth())
    from prometheus_client import REGISTRY

    from tillkey.webhooks.service_layer import delivering

    def successes():
        return REGISTRY.get_sample_value("tillkey_webhook_attempts_total", {"outcome": "success"}) or 0

    before = successes()
    claims = []
    from tillkey.webhooks.service_layer.handlers import HANDLERS
    poll_finds_nothing = {**HANDLERS, delivering.ClaimDueDeliveries: lambda *args: claims.append(args) or []}
    loops = build_workers(settings, service_name=name, retry_delays=FAST_RETRIES, handlers=poll_finds_nothing)
    declare_fresh(settings.amqp_url, loops["consumer"].topology)
    created = sample_envelope("order.created")
    with running(**loops):
        publish(settings.amqp_url, created)
        wait_until(lambda: len(receiver.hits) == 1, what="the webhook, sent from the hand-over")
        wait_until(lambda: client.get("/v1/webhook-deliveries", headers=auth()).get_json()["data"][0]["status"]
                   == "succeeded", what="the attempt recorded")
    (delivery,) = client.get("/v1/webhook-deliveries", headers=auth()).get_json()["data"]
    assert len(delivery["attempts"]) == 1 and receiver.hits[0].json["id"] == created.id
    assert successes() == before + 1  # the attempt counted once, by outcome


def test_a_handed_job_that_waited_past_its_start_by_is_left_to_the_poll(migrated_url, amqp_url):
    service = bootstrap(make_settings(migrated_url, amqp_url=amqp_url))
    worker = DeliveryWorker(service.handle, service.sender, service.clock, schedule=(0.2,), timeout=1.0)
    from tillkey.webhooks.service_layer.delivering import Job

    job = Job("whd_1", "ep_1", "https://example.com/h", "evt_1", "{}", ("whsec_x",))
    worker._start_within = -1  # noqa: SLF001 — as if it had waited in the queue for its whole margin
    worker.take([job])
    assert worker._take_handed() == [] and not worker._handed  # noqa: SLF001 — dropped, not sent late
    worker._start_within = 30  # noqa: SLF001
    worker.take([job])
    assert worker._take_handed() == [job]  # noqa: SLF001
    service.engine.dispose()
