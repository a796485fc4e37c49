"""The consumer loop and the inbox against the real broker and databases."""
from __future__ import annotations

import json
import threading
import time

import pytest

from tillkey.messaging import Consumer, PermanentError, QueueTopology, RetryLater
from tillkey.messaging.consumer import ATTEMPT_HEADER, REASON_HEADER

pytestmark = pytest.mark.integration
FAST_RETRIES = (0.2, 0.4)


@pytest.fixture
def run_consumer(loops, broker, service, amqp_url, wait_until):
    def start(handle, retry_delays=FAST_RETRIES, url=None) -> Consumer:
        topology = QueueTopology(service, ("order.created",), retry_delays=retry_delays)
        broker.own(topology)
        consumer = Consumer(url or amqp_url, topology, handle)
        loops.start(consumer)
        wait_until(lambda: consumer.ready, what="the consumer to be ready")
        return consumer
    return start


def publish(broker, envelope: dict) -> None:
    broker.publish(json.dumps(envelope).encode(), message_id=envelope["id"])


# -- 2. redelivery has its effect once (the inbox) -------------------------------------------------
def test_same_envelope_delivered_twice_has_its_effect_once(db, broker, run_consumer, order_envelope, wait_until):
    consumer = run_consumer(db.dispatcher())
    twice, sentinel = order_envelope(), order_envelope()
    publish(broker, twice)
    publish(broker, twice)
    publish(broker, sentinel)  # one queue, one consumer: once it is handled, both copies were

    wait_until(lambda: db.effects_for(sentinel["id"]), what="the sentinel's effect")
    assert db.effects_for(twice["id"]) == 1
    assert db.count(db.inbox, db.inbox.c.message_id == twice["id"]) == 1
    assert broker.depth(consumer.topology.queue) == 0
    assert broker.depth(consumer.topology.dead_queue) == 0


def test_consumer_killed_after_commit_before_ack_redelivery_has_no_effect(
        db, broker, broker_proxy, run_consumer, loops, amqp_url, order_envelope, wait_until):
    dispatcher = db.dispatcher()
    calls: list[str] = []

    def handle(envelope):
        calls.append(envelope.id)
        dispatcher(envelope)  # the effect and the inbox row are committed here
        if len(calls) == 1:
            broker_proxy.drop_connections()  # the connection dies before the ack leaves

    consumer = run_consumer(handle, url=broker_proxy.url(amqp_url))
    envelope = order_envelope()
    publish(broker, envelope)

    wait_until(lambda: len(calls) >= 2, timeout=45, what="the broker to redeliver after the crash")
    assert calls == [envelope["id"], envelope["id"]]
    assert db.effects_for(envelope["id"]) == 1
    assert broker_proxy.accepted >= 2, "the consumer did not reconnect by itself"
    assert not loops.stop_all()
    # Acked on redelivery: nothing comes back once the consumer is gone.
    assert broker.depth(consumer.topology.queue) == 0
    assert broker.depth(consumer.topology.dead_queue) == 0


def test_competing_deliveries_of_one_message_have_one_effect(db, order_envelope):
    # Two consumers handling the same message at once (a duplicate publish): one wins, the other
    # is a no-op. The handler is slow so that both are inside it, or waiting, at the same time.
    from tillkey.contracts import parse_message

    def slow_effect(envelope, uow):
        db.record_effect(envelope, uow)
        time.sleep(0.3)

    dispatcher = db.dispatcher(slow_effect)
    envelope = parse_message(json.dumps(order_envelope()))
    errors: list[BaseException] = []

    def deliver():
        try:
            dispatcher(envelope)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert db.effects_for(envelope.id) == 1


def test_handler_error_at_commit_is_raised_not_mistaken_for_a_duplicate(db, order_envelope):
    # An IntegrityError of the handler's own writes, raised when the transaction commits (ORM
    # objects flush then), is a failure to retry; it must not be swallowed as "already handled".
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import registry

    from tillkey.contracts import parse_message

    mapper = registry()

    class Note:
        pass

    mapper.map_imperatively(Note, db.effects)

    def handler(envelope, uow):
        note = Note()
        note.event_id = envelope.id  # order_id left NULL: violates NOT NULL at flush (commit)
        uow.session.add(note)

    envelope = parse_message(json.dumps(order_envelope()))
    with pytest.raises(IntegrityError):
        db.dispatcher(handler)(envelope)
    assert db.count(db.inbox) == 0, "the inbox claims a message whose handler failed"


# -- 3. poison messages, retries, dead letters -----------------------------------------------------
def test_poison_messages_go_to_dead_letters_and_the_next_message_flows(
        broker, run_consumer, order_envelope, wait_until):
    handled: list[str] = []
    consumer = run_consumer(lambda env: handled.append(env.id))
    off_contract = order_envelope(total="lots")
    unknown_version = dict(order_envelope(), version=99)
    good = order_envelope()
    broker.publish(b"{not json", message_id="poison-1")
    publish(broker, off_contract)
    publish(broker, unknown_version)
    publish(broker, good)

    wait_until(lambda: handled, what="the good message after the poison")
    assert handled == [good["id"]]
    dead_queue = consumer.topology.dead_queue
    wait_until(lambda: broker.depth(dead_queue) == 3, what="three dead letters")
    dead = broker.drain(dead_queue)
    assert [body for _p, body in dead] == [
        b"{not json", json.dumps(off_contract).encode(), json.dumps(unknown_version).encode()]
    reasons = [props.headers[REASON_HEADER] for props, _b in dead]
    assert all(r.startswith("invalid:") for r in reasons), reasons
    assert "not JSON" in reasons[0] and "total" in reasons[1] and "version 99" in reasons[2]
    assert broker.depth(consumer.topology.queue) == 0


def test_generic_failure_is_retried_through_the_retry_queues_then_dead_lettered(
        broker, run_consumer, order_envelope, wait_until):
    attempts: list[float] = []

    def failing(envelope):
        attempts.append(time.monotonic())
        raise RuntimeError("the ledger is on fire")

    consumer = run_consumer(failing)
    envelope = order_envelope()
    publish(broker, envelope)

    dead_queue = consumer.topology.dead_queue
    wait_until(lambda: broker.depth(dead_queue) == 1, what="the dead letter after the last retry")
    [(props, body)] = broker.drain(dead_queue)
    assert json.loads(body) == envelope
    assert len(attempts) == 1 + len(FAST_RETRIES)
    assert props.headers[ATTEMPT_HEADER] == len(FAST_RETRIES)
    assert props.headers[REASON_HEADER].startswith("retries exhausted")
    assert "the ledger is on fire" in props.headers[REASON_HEADER]
    # It really waited each retry's delay (in its retry queue, held by the consumer: retry_holder.py).
    assert all(b - a >= d - 0.01 for a, b, d in zip(attempts[:-1], attempts[1:], FAST_RETRIES, strict=True))
    assert broker.depth(consumer.topology.queue) == 0


def test_handler_oserror_is_retried_like_any_failure(broker, run_consumer, order_envelope, wait_until):
    # A peer being down (requests' ConnectionError is an OSError) is the handler's failure, not the
    # consumer's connection breaking: it must take the retry path, not loop on redelivery.
    attempts: list[str] = []

    def peer_down(envelope):
        attempts.append(envelope.id)
        raise ConnectionRefusedError("webhook receiver refused the connection")

    consumer = run_consumer(peer_down, retry_delays=(0.2,))
    publish(broker, order_envelope())
    wait_until(lambda: broker.depth(consumer.topology.dead_queue) == 1, what="the dead letter")
    [(props, _body)] = broker.drain(consumer.topology.dead_queue)
    assert len(attempts) == 2
    assert props.headers[REASON_HEADER].startswith("retries exhausted")


def test_transient_failure_then_success_has_its_effect_once(db, broker, run_consumer, order_envelope, wait_until):
    dispatcher = db.dispatcher()
    attempts: list[str] = []

    def flaky(envelope):
        attempts.append(envelope.id)
        if len(attempts) == 1:
            raise RetryLater("the order is not known here yet")
        dispatcher(envelope)

    consumer = run_consumer(flaky)
    envelope = order_envelope()
    publish(broker, envelope)
    wait_until(lambda: db.effects_for(envelope["id"]), what="the effect after one retry")
    assert len(attempts) == 2
    assert db.effects_for(envelope["id"]) == 1
    assert broker.depth(consumer.topology.dead_queue) == 0


def test_permanent_error_goes_straight_to_dead_letters(broker, run_consumer, order_envelope, wait_until):
    attempts: list[str] = []

    def refuse(envelope):
        attempts.append(envelope.id)
        raise PermanentError("merchant does not exist")

    consumer = run_consumer(refuse)
    envelope = order_envelope()
    publish(broker, envelope)
    wait_until(lambda: broker.depth(consumer.topology.dead_queue) == 1, what="the dead letter")
    [(props, body)] = broker.drain(consumer.topology.dead_queue)
    assert json.loads(body) == envelope
    assert attempts == [envelope["id"]]
    assert props.headers[REASON_HEADER] == "permanent: merchant does not exist"
    assert ATTEMPT_HEADER not in props.headers


# -- 5. graceful stop --------------------------------------------------------------------------------
@pytest.mark.parametrize("broker_state", ["connected", "unreachable", "silent"])
def test_stop_from_another_thread_ends_run(broker, broker_proxy, service, amqp_url, wait_until, broker_state):
    # silent: connected, then the broker answers nothing (not even the close-ok).
    topology = QueueTopology(service, ("order.created",), retry_delays=FAST_RETRIES)
    broker.own(topology)
    consumer = Consumer(broker_proxy.url(amqp_url), topology, lambda env: None)
    if broker_state == "unreachable":
        broker_proxy.stop()
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    if broker_state == "unreachable":
        time.sleep(1.0)  # in its reconnect backoff
    else:
        wait_until(lambda: consumer.ready, what="the consumer to be ready")
    if broker_state == "silent":
        broker_proxy.pause()
    started = time.monotonic()
    consumer.stop()
    thread.join(5)
    assert not thread.is_alive(), "Consumer.run() did not return within 5 s of stop()"
    assert time.monotonic() - started < 5
    broker_proxy.resume()  # a paused proxy holds its pumps, so it cannot see the client go
    wait_until(lambda: broker_proxy.live() == 0, timeout=3, what="the consumer's connection to close")
