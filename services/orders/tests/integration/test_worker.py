"""The worker: consumer, outbox relay and lifecycle scheduler; the relay publishes what the API wrote."""
import dataclasses
import json

import pytest

from tillkey.contracts import parse_message
from tillkey.messaging import Consumer, OutboxRelay
from tillkey.orders.adapters.scheduler import LifecycleScheduler
from tillkey.orders.bootstrap import build_workers
from tillkey.platform.health import BrokerCheck
from tillkey.testing.messaging import bind_probe, drain, running, wait_until

pytestmark = pytest.mark.integration


def test_readyz_with_database_and_broker(app, settings, amqp_url):
    app.extensions["tillkey.broker_check"] = BrokerCheck(amqp_url)
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 200 and resp.json["checks"] == {"database": "ok"}
    broker = app.test_client().get("/readyz/broker")
    assert broker.status_code == 200 and broker.json["checks"] == {"broker": "ok"}


def test_worker_runs_consumer_relay_and_scheduler(settings):
    workers = build_workers(settings)
    assert list(workers) == ["consumer", "relay", "scheduler", "dead-letters", "inbox-retention"]
    assert isinstance(workers["relay"], OutboxRelay)
    assert isinstance(workers["consumer"], Consumer) and isinstance(workers["scheduler"], LifecycleScheduler)
    assert set(workers["consumer"].topology.routing_keys) == {
        "payment.succeeded", "payment.failed", "product.delivered", "license.requested", "payment.refunded",
        "refund.failed"}


def test_relay_publishes_checkout_events(client, db, settings, amqp_url, make_product, checkout_body):
    probe = bind_probe(amqp_url, "order.created", "product.created", "merchant.registered")
    pid = make_product()["product_id"]
    cid = client.post("/v1/carts", json={"lines": [{"product_id": pid, "quantity": 2}]}).json["cart_id"]
    order = client.post(f"/v1/carts/{cid}/checkout", json=checkout_body).json["order"]
    relay = build_workers(dataclasses.replace(settings, amqp_url=amqp_url))["relay"]
    with running(relay=relay):
        wait_until(lambda: relay.published_total >= 3, what="the outbox published")
    messages = drain(amqp_url, probe, expect=3)
    assert [m["type"] for m in messages] == ["merchant.registered", "product.created", "order.created"]
    assert parse_message(json.dumps(messages[-1])).data == order
