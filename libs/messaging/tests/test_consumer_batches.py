"""Batched consumption against the real broker and databases: many deliveries, one transaction.

Messages are published before the consumer starts, so its first deliveries arrive together and
make batches; every test checks that a batch of more than one message really happened.
"""
from __future__ import annotations

import json

import pytest

from tillkey.messaging import Consumer, PermanentError, QueueTopology, RetryLater

pytestmark = pytest.mark.integration
MESSAGES = 30


class Recording:
    """The dispatcher, with a record of the batch sizes the consumer handed it."""

    def __init__(self, dispatcher, after_commit=None):
        self.dispatcher = dispatcher
        self.sizes: list[int] = []
        self.after_commit = after_commit

    def __call__(self, envelope):  # a batch of one: counted too, or a redelivery one at a time never adds up
        self.sizes.append(1)
        self.dispatcher(envelope)

    def handle_batch(self, envelopes):
        self.sizes.append(len(envelopes))
        self.dispatcher.handle_batch(envelopes)
        if self.after_commit:
            self.after_commit(envelopes)


@pytest.fixture
def queued(broker, service, amqp_url):
    """Declare the consumer's queues and fill them before any consumer runs."""
    topology = QueueTopology(service, ("order.created",), retry_delays=(0.2, 0.4))
    broker.declare(topology)

    def publish_all(envelopes: list[dict]) -> QueueTopology:
        for env in envelopes:
            broker.publish(json.dumps(env).encode(), message_id=env["id"])
        return topology
    return publish_all


def start(loops, wait_until, amqp_url, topology, handle) -> Consumer:
    consumer = Consumer(amqp_url, topology, handle)
    loops.start(consumer)
    wait_until(lambda: consumer.ready, what="the consumer to be ready")
    return consumer


def test_a_poison_message_inside_a_batch_is_isolated_and_the_others_have_one_effect(
        db, broker, queued, loops, amqp_url, order_envelope, wait_until):
    envelopes = [order_envelope() for _ in range(MESSAGES)]
    poison = envelopes[7]["id"]

    def handler(envelope, uow):
        db.record_effect(envelope, uow)
        if envelope.id == poison:
            raise PermanentError("this one can never succeed")

    handle = Recording(db.dispatcher(handler))
    topology = queued(envelopes)
    start(loops, wait_until, amqp_url, topology, handle)

    wait_until(lambda: broker.depth(topology.dead_queue) == 1, what="the poison message in dead letters")
    wait_until(lambda: all(db.effects_for(e["id"]) == 1 for e in envelopes if e["id"] != poison),
               what="every other message's effect")
    assert max(handle.sizes) > 1, f"no batch was formed: {handle.sizes}"
    assert db.effects_for(poison) == 0  # its batch rolled back, its own transaction too
    assert db.count(db.effects) == MESSAGES - 1
    dead = broker.drain(topology.dead_queue)
    assert json.loads(dead[0][1])["id"] == poison
    assert broker.depth(topology.queue) == 0


def test_a_transient_failure_inside_a_batch_retries_only_that_message(
        db, broker, queued, loops, amqp_url, order_envelope, wait_until):
    envelopes = [order_envelope() for _ in range(MESSAGES)]
    flaky = envelopes[12]["id"]
    failures = []

    def handler(envelope, uow):
        db.record_effect(envelope, uow)
        if envelope.id == flaky and not failures:
            failures.append(envelope.id)
            raise RetryLater("the order is not known here yet")

    handle = Recording(db.dispatcher(handler))
    topology = queued(envelopes)
    start(loops, wait_until, amqp_url, topology, handle)

    wait_until(lambda: db.count(db.effects) == MESSAGES, what="every effect, the retried one too")
    assert max(handle.sizes) > 1
    assert all(db.effects_for(e["id"]) == 1 for e in envelopes)
    assert broker.depth(topology.dead_queue) == 0


def test_a_duplicate_inside_one_batch_has_one_effect(db, broker, queued, loops, amqp_url, order_envelope,
                                                     wait_until):
    envelopes = [order_envelope() for _ in range(MESSAGES)]
    twice = envelopes[3]
    handle = Recording(db.dispatcher())
    topology = queued([*envelopes[:10], twice, *envelopes[10:]])
    start(loops, wait_until, amqp_url, topology, handle)

    wait_until(lambda: all(db.effects_for(e["id"]) == 1 for e in envelopes), what="every effect")
    wait_until(lambda: broker.depth(topology.queue) == 0, what="every delivery acked")
    assert max(handle.sizes) > 1
    assert db.effects_for(twice["id"]) == 1
    assert db.count(db.inbox, db.inbox.c.message_id == twice["id"]) == 1
    assert db.count(db.effects) == MESSAGES
    assert broker.depth(topology.dead_queue) == 0


def test_a_crash_between_the_batch_commit_and_its_ack_has_no_second_effect(
        db, broker, broker_proxy, queued, loops, amqp_url, order_envelope, wait_until):
    envelopes = [order_envelope() for _ in range(MESSAGES)]
    crashed = []

    def crash_once(batch):
        if len(batch) > 1 and not crashed:
            crashed.append(len(batch))
            broker_proxy.drop_connections()  # committed; the connection dies before the ack leaves

    handle = Recording(db.dispatcher(), after_commit=crash_once)
    topology = queued(envelopes)
    start(loops, wait_until, broker_proxy.url(amqp_url), topology, handle)

    wait_until(lambda: crashed, what="a batch to commit and lose its connection")
    wait_until(lambda: sum(handle.sizes) >= MESSAGES + crashed[0], timeout=45,
               what="the broker to redeliver the unacked batch")
    wait_until(lambda: broker.depth(topology.queue) == 0, timeout=30, what="every delivery taken")
    # The queue's depth counts ready messages only: the last batch may still be committing.
    wait_until(lambda: all(db.effects_for(e["id"]) >= 1 for e in envelopes), timeout=30,
               what="every message's effect")
    assert [db.effects_for(e["id"]) for e in envelopes] == [1] * MESSAGES
    assert db.count(db.effects) == MESSAGES
    assert broker.depth(topology.dead_queue) == 0
