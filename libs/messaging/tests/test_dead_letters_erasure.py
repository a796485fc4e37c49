"""Erasure and retention of kept messages on the real broker: a consumer parks messages about an
order in its dead-letter and retry queues, the order is deleted, and no personal value is left."""
from __future__ import annotations

import json
import logging
import time
import uuid
from types import SimpleNamespace

import pytest

from tillkey.contracts import load_sample
from tillkey.contracts.personal_data import personal_values
from tillkey.messaging import Consumer, InboxDispatcher, InboxHandler, PermanentError, QueueTopology, RetryLater
from tillkey.messaging.dead_letters_erasure import ERASER_NAME, DeadLetterEraser, redacted
from tillkey.messaging.dead_letters_retention import DeadLetterRetention

pytestmark = pytest.mark.integration
DELETED, OTHER = "ord_deleted0001", "ord_kept00000002"


def needles(envelope: dict) -> list[str]:
    return personal_values(envelope["data"])


@pytest.fixture
def parked(amqp_url, broker, db, loops, order_envelope, wait_until, service):
    """Three order.created messages parked by a real consumer: two about DELETED (one dead-lettered
    with the email in its reason, one waiting for a retry, held by the consumer) and one about OTHER
    (dead-lettered). The consumer erases on order.deleted, as dead_letter_care installs it."""
    def handler(envelope, uow):
        email = envelope.data["customer"]["email"]
        if envelope.data["custom"].get("fate") == "later":
            raise RetryLater(f"merchant unknown for {email}")
        raise PermanentError(f"cannot use {email}")

    # A long retry delay: the message stays in its retry queue for the whole test.
    topology = QueueTopology(service, ("order.created", "order.deleted"), retry_delays=(300.0,))
    broker.own(topology)
    erased: list[int] = []
    eraser = DeadLetterEraser(amqp_url, topology)
    dispatcher = InboxDispatcher(lambda cause=None: db.uow(cause=cause), db.inbox, {
        "order.created": [InboxHandler("record_effect", handler)],
        "order.deleted": [InboxHandler(ERASER_NAME, lambda env, uow: erased.append(eraser(env, uow)))]})
    consumer = Consumer(amqp_url, topology, dispatcher)
    loops.start(consumer)
    wait_until(lambda: consumer.ready, what="the consumer to be ready")
    messages = [order_envelope(order_id=DELETED, custom={"fate": "dead"}),
                order_envelope(order_id=DELETED, custom={"fate": "later"}),
                order_envelope(order_id=OTHER, custom={"fate": "dead"})]
    for env in messages:
        broker.publish(json.dumps(env).encode(), message_id=env["id"])
    retry_queue = topology.retry_queue(1)
    wait_until(lambda: broker.depth(topology.dead_queue) == 2 and consumer.held_retries == 1,
               what="two dead letters and one retry held")
    return SimpleNamespace(topology=topology, retry_queue=retry_queue, messages=messages, consumer=consumer,
                           erased=erased, loops=loops)


def order_deleted(broker, order_id: str) -> None:
    body = load_sample("order.deleted")
    body["id"], body["data"]["order_id"] = f"evt_{uuid.uuid4().hex}", order_id
    broker.publish(json.dumps(body).encode(), routing_key="order.deleted", message_id=body["id"])


def snapshot(broker, queue) -> list[tuple[object, bytes]]:
    """Every message in the queue, given back (drain, then republish as they were)."""
    import pika
    out = broker.drain(queue)
    conn = pika.BlockingConnection(pika.URLParameters(broker.url))
    try:
        ch = conn.channel()
        for props, body in out:
            ch.basic_publish("", queue, body, props)
    finally:
        conn.close()
    return out


def test_order_deleted_erases_its_dead_letters_and_retries_and_leaves_the_others(
        amqp_url, broker, parked, wait_until):
    topology, retry_queue, (dead, later, other) = parked.topology, parked.retry_queue, parked.messages
    # Through the consumer, as in a worker: the retry it holds is given back for the sweep.
    order_deleted(broker, DELETED)
    wait_until(lambda: parked.erased, what="order.deleted handled")
    assert parked.erased == [2]
    wait_until(lambda: parked.consumer.held_retries == 1, what="the retry held again")
    assert DeadLetterEraser(amqp_url, topology).erase(DELETED) == 0, "a second sweep finds nothing left to erase"
    parked.loops.stop_all()  # the held retry goes back to its queue, to be read below

    kept = {json.loads(body)["id"]: (props, body) for props, body in snapshot(broker, topology.dead_queue)}
    waiting = {json.loads(body)["id"]: (props, body) for props, body in snapshot(broker, retry_queue)}
    assert sorted(kept) == sorted([dead["id"], other["id"]]) and list(waiting) == [later["id"]]
    everything = b"".join(body + json.dumps(props.headers or {}, default=str).encode()
                          for props, body in [*kept.values(), *waiting.values()])
    for needle in needles(dead):
        # The other order's copy still holds its (same sample) values: look only at the deleted order's.
        for message_id in (dead["id"], later["id"]):
            props, body = kept.get(message_id) or waiting[message_id]
            assert needle.encode() not in body + json.dumps(props.headers, default=str).encode()
    assert needles(json.loads(kept[other["id"]][1])) == needles(other)     # another order: untouched
    assert b"Ada" in everything                                             # (so the search above can fail)

    props, body = kept[dead["id"]]
    erased = json.loads(body)
    assert erased["data"]["customer"]["email"] is None and erased["data"]["customer"]["country"] == "GB"
    assert erased["data"]["lines"] == dead["data"]["lines"] and erased["data"]["total"] == dead["data"]["total"]
    assert props.message_id == dead["id"] and props.headers["x-tillkey-redacted"] == 1
    assert props.headers["x-tillkey-dead-reason"] == "permanent: cannot use [erased]"
    assert props.timestamp, "the copy keeps when it was parked (the retention clock)"
    assert waiting[later["id"]][0].headers["x-tillkey-attempt"] == 1   # its retry count is kept


def test_retention_drops_dead_letters_past_the_period_and_logs_each(amqp_url, broker, parked, caplog):
    topology = parked.topology
    assert DeadLetterRetention(amqp_url, topology, retention=3600).sweep() == 0
    assert broker.depth(topology.dead_queue) == 2
    later = DeadLetterRetention(amqp_url, topology, retention=3600, clock=lambda: time.time() + 3601)
    with caplog.at_level(logging.WARNING, logger="tillkey.messaging.dead_letters_retention"):
        assert later.sweep() == 2
    assert broker.depth(topology.dead_queue) == 0 and parked.consumer.held_retries == 1, "retries are not dead"
    dropped = [r.getMessage() for r in caplog.records if "dropped dead letter" in r.getMessage()]
    assert len(dropped) == 2 and all("past the 3600 s retention" in line for line in dropped)


def test_an_undated_dead_letter_is_dated_then_dropped_a_period_later(amqp_url, broker, service):
    import pika
    topology = QueueTopology(service, ("order.created",))
    broker.own(topology)
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        ch = conn.channel()
        topology.declare(ch)
        ch.basic_publish("", topology.dead_queue, b"not json", pika.BasicProperties(message_id="m1"))
    finally:
        conn.close()
    now = time.time()
    assert DeadLetterRetention(amqp_url, topology, 60, clock=lambda: now).sweep() == 0
    assert DeadLetterRetention(amqp_url, topology, 60, clock=lambda: now + 59).sweep() == 0
    assert DeadLetterRetention(amqp_url, topology, 60, clock=lambda: now + 61).sweep() == 1
    assert broker.depth(topology.dead_queue) == 0


def test_redacted_is_none_for_another_order_or_nothing_personal(order_envelope):
    env = order_envelope(order_id=DELETED)
    assert redacted(json.dumps(env).encode(), {}, OTHER) is None
    assert redacted(b"not json", {}, DELETED) is None
    body, headers = redacted(json.dumps(env).encode(), {}, DELETED)
    assert redacted(body, headers, DELETED) is None       # already erased: nothing to do


def test_the_eraser_takes_order_deleted_in_a_batch_under_its_own_name(db, amqp_url, broker, service):
    """Installed by dead_letter_care, it is a named handler like the service's own: a batch of
    order.deleted is handled and recorded (make chaos saw every worker exit here)."""
    from sqlalchemy import select

    from tillkey.messaging.dead_letters_erasure import dead_letter_care
    from tillkey.testing.messaging import sample_envelope

    topology = QueueTopology(service, ("order.deleted",))
    broker.declare(topology)
    dispatcher = InboxDispatcher(lambda cause=None: db.uow(cause=cause), db.inbox,
                                 {"order.deleted": [InboxHandler("forget_order", lambda env, uow: None)]})
    dead_letter_care(amqp_url, topology, dispatcher, environ={})
    deleted = [sample_envelope("order.deleted", new_id=True) for _ in range(2)]
    dispatcher.handle_batch(deleted)
    with db.engine.connect() as c:
        rows = set(c.execute(select(db.inbox.c.message_id, db.inbox.c.handler)))
    assert rows == {(e.id, name) for e in deleted for name in ("forget_order", ERASER_NAME)}
