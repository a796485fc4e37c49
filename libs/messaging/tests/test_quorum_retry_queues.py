"""Retry queues are quorum queues: declared so, their delay still holds (a sweep included), and the
classic retry queues of the versions before are emptied into them and deleted (the upgrade path)."""
from __future__ import annotations

import json
import time

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker

from tillkey.messaging import Consumer, QueueTopology
from tillkey.messaging.connection import short_connection
from tillkey.messaging.consumer import ATTEMPT_HEADER
from tillkey.messaging.dead_letters_sweep import each_queue

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


def park(amqp_url: str, queue: str, message_id: str, body: bytes = b"{}", attempt: int = 1) -> None:
    with short_connection(amqp_url, "test") as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish("", queue, body, pika.BasicProperties(
            delivery_mode=2, message_id=message_id, content_type="application/json",
            headers={ATTEMPT_HEADER: attempt}), mandatory=True)


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
    retry_args = declared.queues[topology.retry_queue(2)]
    assert retry_args["x-message-ttl"] == 2000 and retry_args["x-dead-letter-routing-key"] == topology.queue
    assert (retry_args["x-dead-letter-strategy"], retry_args["x-overflow"]) == ("at-least-once", "reject-publish")

    declare(amqp_url, topology)  # the broker takes them as they are
    for queue, arguments in declared.queues.items():
        with short_connection(amqp_url, "test") as connection:
            with pytest.raises(ChannelClosedByBroker, match="x-queue-type"):
                # ... and refuses to see any of them as a classic queue.
                connection.channel().queue_declare(queue, durable=True,
                                                   arguments={**arguments, "x-queue-type": "classic"})


def test_a_sweep_gives_waiting_retries_back_in_order_without_restarting_their_delay(broker, service, amqp_url):
    delay = 3.0
    topology = QueueTopology(service, ("order.created",), retry_delays=(delay,))
    broker.own(topology)
    declare(amqp_url, topology)
    retry = topology.retry_queue(1)
    parked_at = {}
    for n in range(3):
        park(amqp_url, retry, f"m{n}")
        parked_at[f"m{n}"] = time.monotonic()
        time.sleep(0.3)
    time.sleep(0.6)
    # What the erasure and the retention loops do: take everything, ack nothing, close.
    swept_at = time.monotonic()
    with short_connection(amqp_url, "test") as connection:
        [(queue, _channel, taken)] = list(each_queue(connection, [retry]))
        assert [properties.message_id for _tag, properties, _body in taken] == ["m0", "m1", "m2"]

    arrived = {}
    deadline = time.monotonic() + 20
    with short_connection(amqp_url, "test") as connection:
        channel = connection.channel()
        while len(arrived) < 3 and time.monotonic() < deadline:
            method, properties, _body = channel.basic_get(topology.queue, auto_ack=True)
            if method is None:
                time.sleep(0.05)
                continue
            arrived[properties.message_id] = time.monotonic()
    assert list(arrived) == ["m0", "m1", "m2"], "a retry was lost or reordered by the sweep"
    for message_id, at in arrived.items():
        assert at - parked_at[message_id] >= delay - 0.05, f"{message_id} came back before its delay"
    # A delay restarted by the sweep would bring the first back no earlier than swept_at + delay.
    assert arrived["m0"] < swept_at + delay, "the sweep restarted the delay"
    assert broker.depth(retry) == 0


def test_the_classic_retry_queues_of_the_version_before_are_emptied_into_quorum_ones_and_deleted(
        db, broker, loops, service, amqp_url, wait_until, order_envelope):
    topology = QueueTopology(service, ("order.created",), retry_delays=(0.5, 4.0))
    broker.own(topology)
    old_short, old_long = topology.classic_retry_queue_for(0.5), topology.classic_retry_queue_for(4.0)
    broker.owned += [old_short, old_long]  # deleted at teardown if the test fails before the consumer does
    # What the version before declared: the main and dead queues (quorum already) and classic
    # retry queues that send an expired message back to the main queue.
    declare(amqp_url, QueueTopology(service, ("order.created",), retry_delays=()))
    with short_connection(amqp_url, "test") as connection:
        channel = connection.channel()
        for name, delay in ((old_short, 0.5), (old_long, 4.0)):
            channel.queue_declare(name, durable=True, arguments={
                "x-message-ttl": int(delay * 1000), "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": topology.queue})
            # Redeclaring the same name as a quorum queue is what an upgrade must not do.
            with short_connection(amqp_url, "test") as other:
                with pytest.raises(ChannelClosedByBroker, match="PRECONDITION_FAILED"):
                    other.channel().queue_declare(name, durable=True, arguments={"x-queue-type": "quorum"})
    waiting = order_envelope()
    park(amqp_url, old_long, waiting["id"], json.dumps(waiting).encode(), attempt=2)
    parked = time.monotonic()

    consumer = Consumer(amqp_url, topology, db.dispatcher())
    loops.start(consumer)
    wait_until(lambda: consumer.ready, what="the consumer to be ready")
    assert time.monotonic() - parked < 4.0, "too slow to tell a move from an expiry"
    # Ready means retired: the old queues are gone and the waiting message is in the quorum one.
    assert not queue_exists(amqp_url, old_short) and not queue_exists(amqp_url, old_long)
    assert broker.depth(topology.retry_queue(2)) == 1

    wait_until(lambda: db.effects_for(waiting["id"]), timeout=20, what="the moved message handled")
    time.sleep(0.5)
    assert db.effects_for(waiting["id"]) == 1
    assert broker.depth(topology.dead_queue) == 0

    # Idempotent: the next connection finds nothing to retire.
    from tillkey.messaging.classic_retry_queues import retire_classic_retry_queues
    with short_connection(amqp_url, "test") as connection:
        assert retire_classic_retry_queues(connection, topology) == 0
