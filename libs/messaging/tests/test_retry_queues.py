"""Retry queues are quorum queues without a TTL: declared so, their delay still holds (a sweep
included), the classic retry queues of early versions are emptied into them and deleted, and what
waits in the release before's quorum retry queues (with a TTL) still comes back (the upgrade paths)."""
from __future__ import annotations

import json
import time

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker

from tillkey.messaging import Consumer, QueueTopology
from tillkey.messaging.classic_retry_queues import retire_classic_retry_queues
from tillkey.messaging.connection import short_connection
from tillkey.messaging.consumer import ATTEMPT_HEADER
from tillkey.messaging.dead_letters_sweep import each_queue
from tillkey.messaging.retry_holder import PARKED_AT_HEADER
from tillkey.messaging.topology import AT_LEAST_ONCE_DEAD_LETTERING

pytestmark = pytest.mark.integration


def declare(amqp_url: str, topology: QueueTopology) -> None:
    with short_connection(amqp_url, "test") as connection:
        topology.declare(connection.channel())


def queue_exists(amqp_url: str, queue: str) -> bool:
    with short_connection(amqp_url, "test") as connection:
        try:
            connection.channel().queue_declare(queue, passive=True)
            return True
        except ChannelClosedByBroker:
            return False


def park(amqp_url: str, queue: str, message_id: str, body: bytes = b"{}", attempt: int = 1,
         parked_at: float | None = None) -> None:
    """What the consumer does with a message to retry (`parked_at`: the header it sets)."""
    headers = {ATTEMPT_HEADER: attempt}
    if parked_at is not None:
        headers[PARKED_AT_HEADER] = int(parked_at * 1000)
    with short_connection(amqp_url, "test") as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish("", queue, body, pika.BasicProperties(
            delivery_mode=2, message_id=message_id, content_type="application/json",
            timestamp=int(time.time()), headers=headers), mandatory=True)


class RecordingChannel:
    def __init__(self):
        self.queues: dict[str, dict] = {}

    def queue_declare(self, queue, durable=False, arguments=None, **_):
        self.queues[queue] = dict(arguments or {})

    def exchange_declare(self, *_args, **_kwargs): ...

    def queue_bind(self, *_args, **_kwargs): ...


def test_every_queue_of_a_service_is_a_quorum_queue(broker, service, amqp_url):
    topology = QueueTopology(service, ("order.created",), retry_delays=(0.5, 2.0))
    broker.own(topology)
    declared = RecordingChannel()
    topology.declare(declared)
    assert set(declared.queues) == {topology.queue, topology.dead_queue, topology.retry_queue(1),
                                    topology.retry_queue(2)}
    assert {args["x-queue-type"] for args in declared.queues.values()} == {"quorum"}
    # No TTL and no dead-lettering on a retry queue: its consumer brings each message back
    # (retry_holder.py), not the broker's dead-letter worker.
    assert declared.queues[topology.retry_queue(2)] == {"x-queue-type": "quorum"}
    main_args = declared.queues[topology.queue]
    assert (main_args["x-dead-letter-strategy"], main_args["x-overflow"]) == ("at-least-once", "reject-publish")

    declare(amqp_url, topology)  # the broker takes them as they are
    for queue, arguments in declared.queues.items():
        with short_connection(amqp_url, "test") as connection:
            with pytest.raises(ChannelClosedByBroker, match="x-queue-type"):
                # ... and refuses to see any of them as a classic queue.
                connection.channel().queue_declare(queue, durable=True,
                                                   arguments={**arguments, "x-queue-type": "classic"})


def test_a_sweep_gives_waiting_retries_back_in_order_without_restarting_their_delay(
        broker, loops, service, amqp_url, wait_until, order_envelope):
    delay = 3.0
    topology = QueueTopology(service, ("order.created",), retry_delays=(delay,))
    broker.own(topology)
    declare(amqp_url, topology)
    retry = topology.retry_queue(1)
    envelopes = [order_envelope() for _ in range(3)]
    parked_at = {}
    for envelope in envelopes:
        parked_at[envelope["id"]] = time.time()
        park(amqp_url, retry, envelope["id"], json.dumps(envelope).encode(), parked_at=parked_at[envelope["id"]])
        time.sleep(0.3)
    time.sleep(0.6)
    # What the erasure and the retention loops do: take everything, ack nothing, close.
    swept_at = time.time()
    with short_connection(amqp_url, "test") as connection:
        [(queue, _channel, taken)] = list(each_queue(connection, [retry]))
        assert [properties.message_id for _tag, properties, _body in taken] == [e["id"] for e in envelopes]

    arrived: dict[str, float] = {}
    consumer = Consumer(amqp_url, topology, lambda envelope: arrived.setdefault(envelope.id, time.time()))
    loops.start(consumer)
    wait_until(lambda: len(arrived) == 3, timeout=20, what="the three retries back")
    assert list(arrived) == [e["id"] for e in envelopes], "a retry was lost or reordered by the sweep"
    for message_id, at in arrived.items():
        assert at - parked_at[message_id] >= delay - 0.05, f"{message_id} came back before its delay"
    # A delay restarted by the sweep would bring the first back no earlier than swept_at + delay.
    assert arrived[envelopes[0]["id"]] < swept_at + delay, "the sweep restarted the delay"
    assert broker.depth(retry) == 0


def test_the_retry_queues_of_the_versions_before_are_emptied_or_drain_by_themselves(
        db, broker, loops, service, amqp_url, wait_until, order_envelope):
    topology = QueueTopology(service, ("order.created",), retry_delays=(0.5, 4.0))
    broker.own(topology)
    # Early versions: classic retry queues, retired by a new consumer. The release before: quorum
    # ones with a TTL, which send their messages back by themselves. Each dead-letters an expired
    # message back to the main queue.
    classic, ttl = topology.classic_retry_queue_for(4.0), topology.ttl_retry_queue_for(0.5)
    broker.owned += [classic, ttl]
    declare(amqp_url, QueueTopology(service, ("order.created",), retry_delays=()))
    with short_connection(amqp_url, "test") as connection:
        channel = connection.channel()
        for name, delay, kind in ((classic, 4.0, "classic"), (ttl, 0.5, "quorum")):
            channel.queue_declare(name, durable=True, arguments={
                "x-queue-type": kind, "x-message-ttl": int(delay * 1000), "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": topology.queue,
                **(AT_LEAST_ONCE_DEAD_LETTERING if kind == "quorum" else {})})
            # Redeclaring the same name with today's arguments is what an upgrade must not do.
            with short_connection(amqp_url, "test") as other:
                with pytest.raises(ChannelClosedByBroker, match="PRECONDITION_FAILED"):
                    other.channel().queue_declare(name, durable=True, arguments={"x-queue-type": "quorum"})
    in_classic, in_ttl = order_envelope(), order_envelope()
    park(amqp_url, classic, in_classic["id"], json.dumps(in_classic).encode(), attempt=2)
    parked = time.monotonic()

    consumer = Consumer(amqp_url, topology, db.dispatcher())
    loops.start(consumer)
    wait_until(lambda: consumer.ready, what="the consumer to be ready")
    assert time.monotonic() - parked < 4.0, "too slow to tell a move from an expiry"
    # Ready means retired: the classic queue is gone; its message went to today's queue (where this
    # consumer now holds it). An old worker still parks in the quorum one during a rollout.
    assert not queue_exists(amqp_url, classic) and queue_exists(amqp_url, ttl)
    park(amqp_url, ttl, in_ttl["id"], json.dumps(in_ttl).encode())

    wait_until(lambda: db.effects_for(in_ttl["id"]), timeout=20, what="the TTL queue's message handled")
    wait_until(lambda: db.effects_for(in_classic["id"]), timeout=20, what="the moved message handled")
    assert time.monotonic() - parked >= 4.0 - 1.0, "its delay did not run from when it was parked"
    time.sleep(0.5)
    assert db.effects_for(in_classic["id"]) == 1 and db.effects_for(in_ttl["id"]) == 1
    assert broker.depth(topology.dead_queue) == 0 and broker.depth(ttl) == 0

    # Idempotent: the next connection finds nothing to retire.
    with short_connection(amqp_url, "test") as connection:
        assert retire_classic_retry_queues(connection, topology) == 0
