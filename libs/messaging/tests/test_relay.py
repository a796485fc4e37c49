"""The outbox relay against the real broker and databases: outages, volume, stopping."""
from __future__ import annotations

import json
import os
import threading
import time

import pytest

from tillkey.contracts import load_sample
from tillkey.messaging import OutboxRelay
from tillkey.messaging.connection import CLOSE_TIMEOUT
from tillkey.messaging.relay import STOP_GRACE

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


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_relays_on_postgresql_publish_each_event_once(db, broker, loops, service, amqp_url, wait_until):
    # FOR UPDATE SKIP LOCKED: each relay claims rows the other is not holding.
    queue = f"{service}.count"
    broker.bind_counting_queue(queue)
    relays = [OutboxRelay(amqp_url, db.session_factory, db.outbox, f"{service}-{i}", batch_size=50,
                          poll_interval=0.01) for i in range(2)]
    for relay in relays:
        loops.start(relay)
    ids = emit(db, 2000)
    wait_until(lambda: db.unpublished() == 0, timeout=120, what="2,000 events published")
    assert all(r.published_total > 0 for r in relays), "one relay did all the work: no concurrency shown"
    assert sum(r.published_total for r in relays) == 2000
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


def test_connection_lost_mid_stream_loses_nothing(db, broker, broker_proxy, loops, service, amqp_url, wait_until):
    queue = f"{service}.count"
    broker.bind_counting_queue(queue)
    ids = emit(db, 2000, per_tx=500)
    relay = OutboxRelay(broker_proxy.url(amqp_url), db.session_factory, db.outbox, service,
                        batch_size=100, poll_interval=0.05)
    loops.start(relay)

    wait_until(lambda: db.unpublished() < 2000, interval=0.005, what="the first batch")
    broker_proxy.pause()  # the batch now in flight never sees its confirms...
    assert db.unpublished() > 0
    broker_proxy.drop_connections()  # ...and its connection dies
    broker_proxy.resume()

    wait_until(lambda: db.unpublished() == 0, timeout=60, what="every event after the reconnect")
    published = ids_in(broker.drain(queue))
    assert set(published) == set(ids)
    # At least once: only the batch that was in flight may have gone out twice.
    assert len(published) - len(ids) <= 100


def test_writers_are_not_blocked_while_a_batch_awaits_its_confirms(
        db, broker, broker_proxy, loops, service, amqp_url, wait_until):
    # On SQLite the claim took the database-wide write lock; held until the confirms came (up to
    # CONFIRM_TIMEOUT, 30 s), every request of the service that writes would have waited for it.
    queue = f"{service}.seen"
    broker.bind_counting_queue(queue)
    relay = OutboxRelay(broker_proxy.url(amqp_url), db.session_factory, db.outbox, service, poll_interval=0.05)
    loops.start(relay)
    ids = emit(db)
    wait_until(lambda: db.unpublished() == 0, what="the relay to be connected")

    broker_proxy.pause()
    ids += emit(db)
    time.sleep(0.5)  # claimed and published; its confirm is held by the silent peer
    writer = threading.Thread(target=lambda: ids.extend(emit(db)))
    writer.start()
    writer.join(5)
    assert not writer.is_alive(), "a writer waited for the relay's batch to be confirmed"

    broker_proxy.resume()
    wait_until(lambda: db.unpublished() == 0, what="both events once the peer answers")
    assert sorted(ids_in(broker.drain(queue))) == sorted(ids)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
def test_reconnect_attempts_do_not_leak_file_descriptors(db, broker_proxy, service, amqp_url, monkeypatch):
    attempts = []
    monkeypatch.setattr("tillkey.messaging.relay.RECONNECT_WAIT", lambda state: attempts.append(1) or 0.01)
    broker_proxy.stop()
    relay = OutboxRelay(broker_proxy.url(amqp_url), db.session_factory, db.outbox, service)
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    try:
        time.sleep(0.5)
        before, tried = len(os.listdir("/proc/self/fd")), len(attempts)
        time.sleep(3.0)
        after, tried = len(os.listdir("/proc/self/fd")), len(attempts) - tried
    finally:
        relay.stop()
        thread.join(5)
    assert tried >= 8, "the relay did not keep trying to reconnect"
    assert after - before < 5, f"{after - before} descriptors leaked over {tried} reconnect attempts"


@pytest.mark.parametrize("reachable", [True, False], ids=["connected", "broker-unreachable"])
def test_stop_from_another_thread_ends_run(db, broker_proxy, service, amqp_url, wait_until, reachable):
    if not reachable:
        broker_proxy.stop()
    relay = OutboxRelay(broker_proxy.url(amqp_url), db.session_factory, db.outbox, service)
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    if reachable:
        wait_until(lambda: broker_proxy.live() == 1, what="the relay to connect")
    time.sleep(1.0)  # polling, or in its reconnect backoff
    started = time.monotonic()
    relay.stop()
    thread.join(5)
    assert not thread.is_alive(), "OutboxRelay.run() did not return within 5 s of stop()"
    assert time.monotonic() - started < 5
    # The connection was closed, not left half-open with its socket.
    wait_until(lambda: broker_proxy.live() == 0, timeout=3, what="the relay's connection to close")


def test_stop_returns_while_confirms_are_outstanding(db, broker, broker_proxy, service, amqp_url, wait_until):
    queue = f"{service}.seen"
    broker.bind_counting_queue(queue)
    relay = OutboxRelay(broker_proxy.url(amqp_url), db.session_factory, db.outbox, service, poll_interval=0.05)
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    try:
        emit(db)
        wait_until(lambda: db.unpublished() == 0, what="the relay to be connected")
        broker_proxy.pause()  # a broker gone silent: neither confirms nor the close-ok come back
        emit(db)
        time.sleep(0.5)
        started = time.monotonic()
        relay.stop()
        thread.join(STOP_GRACE + CLOSE_TIMEOUT + 3)
        assert not thread.is_alive(), "stop() waited for confirms that never come"
        assert time.monotonic() - started < STOP_GRACE + CLOSE_TIMEOUT + 3
    finally:
        relay.stop()
        broker_proxy.resume()
        thread.join(10)
    assert db.unpublished() == 1, "an unconfirmed event was marked published"
    wait_until(lambda: broker_proxy.live() == 0, timeout=3, what="the relay's socket to close")


def test_published_events_are_deleted_after_the_retention(db, broker, loops, service, amqp_url, wait_until):
    queue = f"{service}.retained"
    broker.bind_counting_queue(queue)
    relay = OutboxRelay(amqp_url, db.session_factory, db.outbox, service, poll_interval=0.05, retention=0.5)
    loops.start(relay)
    emit(db, 3)
    wait_until(lambda: broker.depth(queue) == 3, what="three events published")
    # Gone from the outbox once older than the retention: no lasting copy of their personal data.
    wait_until(lambda: db.count(db.outbox) == 0, timeout=15, what="published rows pruned")
    assert broker.depth(queue) == 3


def test_unpublished_events_are_never_pruned(db, broker, loops, service, amqp_url, wait_until):
    from sqlalchemy import select

    from tillkey.messaging.outbox_store import postpone

    queue = f"{service}.kept"
    broker.bind_counting_queue(queue)
    emit(db, 2)
    with db.session_factory() as session:  # two rows the broker "refused": due again in an hour
        postpone(session, db.outbox, list(session.scalars(select(db.outbox.c.seq))), 3600)
        session.commit()
    relay = OutboxRelay(amqp_url, db.session_factory, db.outbox, service, poll_interval=0.05, retention=0.1)
    loops.start(relay)
    emit(db, 1)
    wait_until(lambda: broker.depth(queue) == 1, what="the due event published")
    wait_until(lambda: db.count(db.outbox) == 2, timeout=15, what="the published row pruned")
    time.sleep(1.0)  # several more prune rounds
    assert db.unpublished() == 2
