"""The consumer's linger: under a steady flow the next batch waits a moment to fill; after a quiet
moment the first message is handled at once (docs/architecture.md 7.2).

The linger is set long here (0.5 s) so that the batches' make-up, not their timing, tells whether
it happened.
"""
from __future__ import annotations

import json
import threading

import pytest

from tillkey.messaging import Consumer, QueueTopology

pytestmark = pytest.mark.integration
LINGER = 0.5


class Batches:
    """The handler: the message ids of each batch the consumer handed over, in order."""

    def __init__(self, dispatcher, on_message=None):
        self.dispatcher = dispatcher
        self.batches: list[list[str]] = []
        self.on_message = on_message

    def __call__(self, envelope):
        self.handle_batch([envelope])

    def handle_batch(self, envelopes):
        self.batches.append([e.id for e in envelopes])
        if len(envelopes) == 1:
            self.dispatcher(envelopes[0])
        else:
            self.dispatcher.handle_batch(envelopes)
        for envelope in envelopes:
            if self.on_message:
                self.on_message(envelope.id)


@pytest.fixture
def topology(broker, service):
    return broker.declare(QueueTopology(service, ("order.created",), retry_delays=(0.2,)))


def publish(broker, envelope) -> None:
    broker.publish(json.dumps(envelope).encode(), message_id=envelope["id"])


def start(loops, wait_until, amqp_url, topology, handle, **options) -> Consumer:
    consumer = Consumer(amqp_url, topology, handle, **{"linger": LINGER, **options})
    loops.start(consumer)
    wait_until(lambda: consumer.ready, what="the consumer to be ready")
    return consumer


def test_under_a_steady_flow_the_next_batch_lingers_and_takes_what_comes_meanwhile(
        db, broker, topology, loops, amqp_url, order_envelope, wait_until):
    first, second, third = (order_envelope() for _ in range(3))

    def on_message(message_id):
        if message_id == first["id"]:
            # While the first batch is handled the second message arrives (the flow is steady);
            # the third comes only after that batch ended, within the linger.
            publish(broker, second)
            threading.Event().wait(0.2)
            threading.Timer(0.1, publish, (broker, third)).start()

    handle = Batches(db.dispatcher(), on_message)
    start(loops, wait_until, amqp_url, topology, handle)
    publish(broker, first)

    wait_until(lambda: all(db.effects_for(e["id"]) == 1 for e in (first, second, third)), what="every effect")
    assert handle.batches == [[first["id"]], [second["id"], third["id"]]]


def test_after_a_quiet_moment_the_first_message_is_handled_without_lingering(
        db, broker, topology, loops, amqp_url, order_envelope, wait_until):
    first, second = order_envelope(), order_envelope()
    handle = Batches(db.dispatcher())
    start(loops, wait_until, amqp_url, topology, handle)

    publish(broker, first)
    threading.Event().wait(0.1)  # well inside the linger: a lingering consumer would take both at once
    publish(broker, second)

    wait_until(lambda: all(db.effects_for(e["id"]) == 1 for e in (first, second)), what="both effects")
    assert handle.batches == [[first["id"]], [second["id"]]]


def test_a_flow_that_lasts_makes_the_linger_longer(db, broker, topology, loops, amqp_url, order_envelope,
                                                  wait_until):
    """Messages waiting after two batches in a row (busy_after=2): the next batch waits the busy
    linger (0.5 s here) and takes what comes meanwhile; before that, the short one (0.01 s) did not."""
    m = [order_envelope() for _ in range(5)]

    def on_message(message_id):
        # Each of the first two batches sees the next message arrive while it is handled.
        if message_id == m[0]["id"]:
            publish(broker, m[1])
            threading.Event().wait(0.1)
        elif message_id == m[1]["id"]:
            publish(broker, m[2])
            threading.Event().wait(0.1)
            # These come 0.1 s after the second batch: past the short linger, inside the busy one.
            threading.Timer(0.1, lambda: [publish(broker, late) for late in m[3:]]).start()

    handle = Batches(db.dispatcher(), on_message)
    start(loops, wait_until, amqp_url, topology, handle, linger=0.01, busy_linger=0.5, busy_after=2)
    publish(broker, m[0])

    wait_until(lambda: all(db.effects_for(e["id"]) == 1 for e in m), what="every effect")
    assert handle.batches == [[m[0]["id"]], [m[1]["id"]], [m[2]["id"], m[3]["id"], m[4]["id"]]]
