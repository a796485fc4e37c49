"""`tillkey-admin` on the real broker: a poison message is dead-lettered, listed and shown, replayed
once its cause is fixed (handled exactly once), and dead letters are purged only when confirmed."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tillkey.messaging import Consumer, PermanentError, QueueTopology
from tillkey.testing import servers

pytestmark = pytest.mark.integration
ADMIN = [os.path.join(os.path.dirname(sys.executable), "tillkey-admin")]


@pytest.fixture
def amqp_url(amqp_server_url):
    """A vhost for each test: the command knows the five services by name, so the queues are `orders.*`."""
    url, vhost = servers.create_vhost(amqp_server_url)
    if vhost is None:
        pytest.fail("rabbitmqctl is needed to make a vhost for the orders queues")
    yield url
    servers.delete_vhost(vhost)


def admin(amqp_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([*ADMIN, *args], env={**os.environ, "AMQP_URL": amqp_url}, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_a_poison_message_is_replayed_after_its_cause_is_fixed(amqp_url, broker, db, loops, order_envelope,
                                                               wait_until):
    orders_vhost = amqp_url
    broken = {"yes": True}

    def handler(envelope, uow):
        if broken["yes"]:
            raise PermanentError("product prod_x is unknown here")
        db.record_effect(envelope, uow)

    topology = QueueTopology("orders", ("order.created",), retry_delays=(0.2,))
    consumer = Consumer(orders_vhost, topology, db.dispatcher(handler))
    loops.start(consumer)
    wait_until(lambda: consumer.ready, what="the consumer to be ready")
    poison = order_envelope()
    broker.publish(json.dumps(poison).encode(), message_id=poison["id"])
    wait_until(lambda: broker.depth("orders.events.dead") == 1, what="the poison message dead-lettered")

    listed = admin(orders_vhost, "dead-letters", "list", "orders")
    assert listed.returncode == 0, listed.stderr
    [line] = [json.loads(x) for x in listed.stdout.splitlines()]
    assert line["dead_letters"] == 1
    [letter] = line["first"]
    assert letter["message_id"] == poison["id"] and letter["type"] == "order.created"
    assert letter["reason"] == "permanent: product prod_x is unknown here"
    assert broker.depth("orders.events.dead") == 1, "listing must not remove anything"

    shown = admin(orders_vhost, "dead-letters", "show", "orders", poison["id"])
    assert shown.returncode == 0 and json.loads(shown.stdout)["body"]["data"] == poison["data"]
    assert admin(orders_vhost, "dead-letters", "show", "orders", "evt_nope").returncode == 1

    broken["yes"] = False  # the cause is fixed (the product arrived, the code was deployed)
    replayed = admin(orders_vhost, "dead-letters", "replay", "orders", poison["id"])
    assert replayed.returncode == 0 and "replayed 1 message" in replayed.stdout, replayed.stderr
    wait_until(lambda: db.effects_for(poison["id"]) == 1, what="the replayed message handled")
    assert broker.depth("orders.events.dead") == 0

    # Purge asks first: a wrong answer deletes nothing, the service's name deletes all.
    broken["yes"] = True
    for _ in range(2):
        other = order_envelope()
        broker.publish(json.dumps(other).encode(), message_id=other["id"])
    wait_until(lambda: broker.depth("orders.events.dead") == 2, what="two more dead letters")
    refused = admin(orders_vhost, "dead-letters", "purge", "orders", stdin="y\n")
    assert refused.returncode == 1 and broker.depth("orders.events.dead") == 2
    purged = admin(orders_vhost, "dead-letters", "purge", "orders", stdin="orders\n")
    assert purged.returncode == 0 and "purged 2 message" in purged.stdout
    assert broker.depth("orders.events.dead") == 0
    assert db.effects_for(poison["id"]) == 1


def test_outbox_backlog_per_service(amqp_url, db, database_url):
    with db.uow() as uow:
        uow.emit("order.created", order_envelope_data())
        uow.commit()
    out = subprocess.run([*ADMIN, "outbox", "orders"], env={**os.environ, "ORDERS_DATABASE_URL": database_url},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    line = json.loads(out.stdout)
    assert line["service"] == "orders" and line["unpublished"] == 1 and 0 <= line["oldest_age_seconds"] < 60


def order_envelope_data() -> dict:
    from tillkey.contracts import load_sample

    return load_sample("order.created")["data"]
