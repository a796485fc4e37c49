"""Several broker addresses: every connection takes the next one when one is gone.

Two TCP proxies in front of the same broker stand for two nodes of a cluster; stopping one closes
its connections and refuses new ones, as a stopped node does. The cluster itself (a queue's leader
stopped) is test_broker_cluster.py."""
from __future__ import annotations

import threading
import time

import pytest

from tillkey.contracts import load_sample
from tillkey.messaging import Consumer, OutboxRelay, QueueTopology
from tillkey.messaging.connection import short_connection
from tillkey.platform.health import BrokerCheck
from tillkey.testing.proxy import TcpProxy

pytestmark = pytest.mark.integration
ORDER = load_sample("order.created")["data"]
NOTHING_LISTENS = "amqp://guest:guest@127.0.0.1:1/%2F"  # port 1: refused at once


@pytest.fixture
def two_proxies(amqp_url):
    from urllib.parse import urlsplit
    parts = urlsplit(amqp_url)
    proxies = [TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5672) for _ in range(2)]
    for proxy in proxies:
        proxy.start()
    yield proxies
    for proxy in proxies:
        proxy.stop()


def test_short_connections_and_the_broker_check_skip_an_address_that_refuses(amqp_url):
    both = f"{NOTHING_LISTENS},{amqp_url}"
    with short_connection(both, "test") as connection:
        assert connection.is_open
    assert BrokerCheck(both).ok()
    assert not BrokerCheck(NOTHING_LISTENS).ok()


def test_relay_and_consumer_go_on_through_the_second_address_when_the_first_goes_away(
        db, broker, loops, service, amqp_url, two_proxies, wait_until):
    first, second = two_proxies
    url = f"{first.url(amqp_url)},{second.url(amqp_url)}"
    topology = QueueTopology(service, ("order.created",))
    broker.own(topology)
    consumer = Consumer(url, topology, db.dispatcher())
    loops.start(consumer)
    wait_until(lambda: consumer.ready, what="the consumer to be ready")
    loops.start(OutboxRelay(url, db.session_factory, db.outbox, service, poll_interval=0.05))
    assert first.live() >= 1 and second.accepted == 0, "both loops start on the first address"

    ids = []
    for n in range(60):  # a steady flow; the first address goes away in the middle of it
        with db.uow() as uow:
            ids.append(uow.emit("order.created", ORDER).id)
            uow.commit()
        if n == 30:
            first.stop()
        time.sleep(0.02)

    wait_until(lambda: all(db.effects_for(i) for i in ids), timeout=60, what="every event handled")
    time.sleep(0.5)  # a duplicate would land now
    assert [db.effects_for(i) for i in ids] == [1] * len(ids), "an event had no effect or two"
    assert db.unpublished() == 0
    assert second.accepted >= 2, "relay and consumer did not both reconnect to the second address"


UNRESOLVABLE = "amqp://guest:guest@no-such-node.invalid:5672/%2F"


def test_an_address_whose_name_does_not_resolve_does_not_hide_the_ones_after_it(
        db, broker, loops, service, amqp_url, wait_until):
    # pika alone gives up at such a name without trying the next address (socket.gaierror).
    url = f"{UNRESOLVABLE},{amqp_url}"
    with short_connection(url, "test") as connection:
        assert connection.is_open
    assert BrokerCheck(url).ok()
    topology = QueueTopology(service, ("order.created",))
    broker.own(topology)
    consumer = Consumer(url, topology, db.dispatcher())
    loops.start(consumer)
    wait_until(lambda: consumer.ready, what="the consumer to be ready")
    relay = OutboxRelay(url, db.session_factory, db.outbox, service, poll_interval=0.05)
    loops.start(relay)
    with db.uow() as uow:
        event_id = uow.emit("order.created", ORDER).id
        uow.commit()
    wait_until(lambda: db.effects_for(event_id), timeout=20, what="the event handled")


def test_stop_while_the_relay_waits_on_an_address_that_does_not_answer(db, service, amqp_url, two_proxies,
                                                                       wait_until):
    # The first address takes the TCP connection and then says nothing (a frozen node): the relay
    # waits in the AMQP handshake. stop() must end it at once, not wait for the handshake's timeout
    # (pika's create_connection could not: its abort() fails an assertion in this state).
    silent, second = two_proxies
    silent.pause()
    relay = OutboxRelay(f"{silent.url(amqp_url)},{second.url(amqp_url)}", db.session_factory, db.outbox, service)
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    wait_until(lambda: silent.live() == 1, what="the relay to reach the silent address")
    started = time.monotonic()
    relay.stop()
    thread.join(5)
    silent.resume()
    assert not thread.is_alive(), "OutboxRelay.run() did not return within 5 s of stop()"
    assert time.monotonic() - started < 3
    wait_until(lambda: silent.live() == 0, timeout=3, what="the half-open connection to be dropped")
