"""The outbox relay against the real broker and databases: outages, volume, stopping."""
from __future__ import annotations

import json
import threading
import time

import pytest

from tillkey.contracts import load_sample
from tillkey.messaging import OutboxRelay

pytestmark = pytest.mark.integration
ORDER = load_sample("order.created")["data"]


def emit(db, count: int = 1, per_tx: int = 100) -> list[str]:
    """`count` order.created events through the unit of work, committed `per_tx` at a time."""
    ids = []
    while len(ids) < count:
        with db.uow() as uow:
            for _ in range(min(per_tx, count - len(ids))):
                ids.append(uow.emit("order.created", ORDER).id)
            uow.commit()
    return ids


def ids_in(messages) -> list[str]:
    return [json.loads(body)["id"] for _props, body in messages]


def test_event_written_while_broker_unreachable_is_published_when_it_is_back(
        db, broker, broker_proxy, loops, service, amqp_url, wait_until):
    queue = f"{service}.seen"
    broker.bind_counting_queue(queue)
    relay = OutboxRelay(broker_proxy.url(amqp_url), db.session_factory, db.outbox, service, poll_interval=0.05)
    loops.start(relay)

    # The relay is up through the proxy and the first event goes out.
    before = emit(db)
    wait_until(lambda: db.unpublished() == 0, what="the first event published")

    broker_proxy.stop()
    during = emit(db)  # committed while nothing answers on the relay's port
    time.sleep(1.5)  # several poll ticks and at least one failed reconnect
    assert db.unpublished() == 1, "an event was marked published while the broker was unreachable"

    broker_proxy.start()
    wait_until(lambda: db.unpublished() == 0, timeout=45, what="the relay to reconnect and publish")
    assert broker_proxy.accepted >= 2, "the relay never came back through the proxy"
    assert sorted(ids_in(broker.drain(queue))) == sorted(before + during)
    assert relay.published_total == 2


def test_relay_publishes_every_event_exactly_once(db, broker, loops, service, amqp_url, wait_until):
    queue = f"{service}.count"
    broker.bind_counting_queue(queue)
    relay = OutboxRelay(amqp_url, db.session_factory, db.outbox, service, batch_size=500, poll_interval=0.05)
    loops.start(relay)

    ids = emit(db, 2000)  # written while the relay is already polling: writer and relay contend
    wait_until(lambda: db.unpublished() == 0, timeout=120, what="2,000 events published")
    assert db.count(db.outbox, db.outbox.c.published_at.is_not(None)) == 2000
    assert relay.published_total == 2000
    assert broker.depth(queue) == 2000
    published = ids_in(broker.drain(queue))
    assert len(published) == 2000 and set(published) == set(ids)


def test_unroutable_event_waits_in_the_outbox_until_a_queue_is_bound(
        db, broker, loops, service, amqp_url, wait_until, monkeypatch):
    # `mandatory`: the broker returns an event nobody is bound to; the row must stay unpublished.
    monkeypatch.setattr("tillkey.messaging.relay.RETURNED_RETRY_SECONDS", 0.5)
    relay = OutboxRelay(amqp_url, db.session_factory, db.outbox, service, poll_interval=0.05)
    loops.start(relay)
    with db.uow() as uow:
        event = uow.emit("order.deleted", {"order_id": "ord_1", "merchant_id": "mer_1"})
        uow.commit()
    wait_until(lambda: db.count(db.outbox, db.outbox.c.attempts > 0), what="the returned event to be postponed")
    assert db.unpublished() == 1

    queue = f"{service}.late"
    broker.bind_counting_queue(queue, routing_key="order.deleted")
    wait_until(lambda: db.unpublished() == 0, what="the event to go out once a queue is bound")
    assert ids_in(broker.drain(queue)) == [event.id]


@pytest.mark.parametrize("reachable", [True, False], ids=["connected", "broker-unreachable"])
def test_stop_from_another_thread_ends_run(db, broker_proxy, loops, service, amqp_url, reachable):
    if not reachable:
        broker_proxy.stop()
    relay = OutboxRelay(broker_proxy.url(amqp_url), db.session_factory, db.outbox, service)
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    time.sleep(1.0)  # connected and polling, or in its reconnect backoff
    started = time.monotonic()
    relay.stop()
    thread.join(5)
    assert not thread.is_alive(), "OutboxRelay.run() did not return within 5 s of stop()"
    assert time.monotonic() - started < 5
