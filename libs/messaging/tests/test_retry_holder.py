"""The way back from a retry queue (retry_holder.py): each held message goes back to the main queue
when its delay is over, counted from when it was parked; a stop gives the held ones back without
restarting their delay; a full long-delay queue never holds up a short one; a message due after the
hold limit goes round its own queue instead of being held past the broker's consumer_timeout."""
from __future__ import annotations

import json
import time
from types import SimpleNamespace

import pika
import pytest

from tillkey.messaging import Consumer, QueueTopology
from tillkey.messaging.connection import short_connection
from tillkey.messaging.consumer import ATTEMPT_HEADER
from tillkey.messaging.retry_holder import PARKED_AT_HEADER, RetryHolder, parked_at


def props(headers=None, timestamp=None):
    return SimpleNamespace(headers=headers, timestamp=timestamp)


def test_the_parking_time_comes_from_the_header_then_the_timestamp_then_now():
    assert parked_at(props({PARKED_AT_HEADER: 1_700_000_000_250}, 1_600_000_000), now=5.0) == 1_700_000_000.25
    assert parked_at(props({}, 1_600_000_000), now=5.0) == 1_600_000_000  # parked by an older version
    assert parked_at(props(None, None), now=5.0) == 5.0
    assert parked_at(props({PARKED_AT_HEADER: "soon"}, None), now=5.0) == 5.0  # mangled: from now


class FakeChannel:
    """The edge of the unit: what the holder asks of its channel."""

    def __init__(self):
        self.consumers, self.acked, self.qos = {}, [], None

    def basic_qos(self, prefetch_count, global_qos):
        self.qos = (prefetch_count, global_qos)

    def basic_consume(self, queue, callback):
        self.consumers[queue] = callback

    def basic_ack(self, tag):
        self.acked.append(tag)

    def deliver(self, queue, tag, parked, body=b"{}"):
        self.consumers[queue](self, SimpleNamespace(delivery_tag=tag),
                              props({PARKED_AT_HEADER: int(parked * 1000)}), body)


def holder_at(clock, **kwargs):
    topology = QueueTopology("svc", ("order.created",), retry_delays=(1.0, 10.0))
    channel, published = FakeChannel(), []
    holder = RetryHolder(channel, topology, lambda queue, body, _p: published.append((queue, body)),
                         now=lambda: clock[0], **kwargs)
    holder.start()
    return topology, channel, published, holder


def test_held_messages_go_back_in_due_order_each_published_before_its_ack():
    clock = [1000.0]
    topology, channel, published, holder = holder_at(clock)
    assert channel.qos == (200, False)  # a prefetch per retry queue, not one shared by the channel
    channel.deliver(topology.retry_queue(2), 1, parked=995.0, body=b"long")   # due at 1005
    channel.deliver(topology.retry_queue(1), 2, parked=999.5, body=b"short")  # due at 1000.5
    assert holder.seconds_to_next(5.0) == 0.5 and holder.release_due() == 0
    clock[0] = 1000.6
    assert holder.release_due() == 1
    assert published == [(topology.queue, b"short")] and channel.acked == [2]
    clock[0] = 1005.0
    assert holder.release_due() == 1 and channel.acked == [2, 1] and holder.held == 0
    assert holder.seconds_to_next(0.5) == 0.5


def test_a_message_due_after_the_hold_limit_goes_round_its_own_queue_with_its_parking_time():
    clock = [1000.0]
    topology, channel, published, holder = holder_at(clock, hold_limit=3.0)
    channel.deliver(topology.retry_queue(2), 7, parked=1000.0, body=b"later")  # due at 1010
    clock[0] = 1003.0
    assert holder.release_due() == 0
    assert published == [(topology.retry_queue(2), b"later")] and channel.acked == [7]


# --------------------------------------------------------------------- on the real broker
def park(amqp_url, queue, envelope, at: float) -> None:
    with short_connection(amqp_url, "test") as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish("", queue, json.dumps(envelope).encode(), pika.BasicProperties(
            delivery_mode=2, message_id=envelope["id"], content_type="application/json",
            headers={ATTEMPT_HEADER: 1, PARKED_AT_HEADER: int(at * 1000)}), mandatory=True)


def run_holder(amqp_url, topology, until, timeout=15.0, **kwargs):
    """A holder on a connection of its own, run until `until()` is true; → seconds it took."""
    started = time.time()
    with short_connection(amqp_url, "test") as connection:
        side = connection.channel()
        side.confirm_delivery()
        holder = RetryHolder(connection.channel(), topology,
                             lambda queue, body, p: side.basic_publish("", queue, body, p, mandatory=True), **kwargs)
        holder.start()
        while not until():
            assert time.time() - started < timeout, "the holder did not get there in time"
            connection.process_data_events(time_limit=holder.seconds_to_next(0.1))
            holder.release_due()
    return time.time() - started




@pytest.mark.integration
def test_a_stopped_consumer_gives_its_held_retries_back_and_the_next_keeps_their_delay(
        broker, loops, service, amqp_url, wait_until, order_envelope):
    delay = 3.0
    topology = broker.declare(QueueTopology(service, ("order.created",), retry_delays=(delay,)))
    envelope = order_envelope()
    parked = time.time()
    park(amqp_url, topology.retry_queue(1), envelope, parked)
    handled: dict[str, float] = {}
    first = Consumer(amqp_url, topology, lambda e: handled.setdefault(e.id, time.time()))
    loops.start(first)
    wait_until(lambda: first.ready and broker.depth(topology.retry_queue(1)) == 0, what="the first consumer holding it")
    first.stop()
    wait_until(lambda: not first.ready and broker.depth(topology.retry_queue(1)) == 1, what="it given back")
    assert not handled, "released before its delay"

    second = Consumer(amqp_url, topology, lambda e: handled.setdefault(e.id, time.time()))
    loops.start(second)
    wait_until(lambda: envelope["id"] in handled, timeout=20, what="the retry handled")
    waited = handled[envelope["id"]] - parked
    assert delay - 0.05 <= waited < delay + 1.5, f"came back after {waited:.2f}s: the delay restarted or overran"


@pytest.mark.integration
def test_a_full_long_delay_queue_does_not_hold_up_a_short_one(broker, service, amqp_url, order_envelope):
    topology = broker.declare(QueueTopology(service, ("order.created",), retry_delays=(0.5, 60.0)))
    now = time.time()
    for _ in range(4):  # more than the prefetch: with one limit for the channel, these would fill it
        park(amqp_url, topology.retry_queue(2), order_envelope(), now)
    park(amqp_url, topology.retry_queue(1), order_envelope(), now)
    long_waiting = []

    def short_one_back() -> bool:
        if broker.depth(topology.queue) == 1:
            long_waiting.append(broker.depth(topology.retry_queue(2)))
            return True
        return False

    took = run_holder(amqp_url, topology, short_one_back, prefetch=2)
    assert took < 5.0
    assert long_waiting == [2], "the long queue's prefetch was not its own: two held, two waiting"
    assert broker.depth(topology.retry_queue(2)) == 4  # the held ones given back at the close


@pytest.mark.integration
def test_past_the_hold_limit_a_retry_goes_round_its_queue_and_still_comes_back_once_when_due(
        broker, service, amqp_url, order_envelope):
    delay = 2.5
    topology = broker.declare(QueueTopology(service, ("order.created",), retry_delays=(delay,)))
    parked = time.time()
    park(amqp_url, topology.retry_queue(1), order_envelope(), parked)
    run_holder(amqp_url, topology, lambda: broker.depth(topology.queue) == 1, hold_limit=0.4)
    assert time.time() - parked >= delay - 0.05
    time.sleep(0.3)
    assert broker.depth(topology.queue) == 1 and broker.depth(topology.retry_queue(1)) == 0
