"""An idle consumer waits long in pika's I/O loop (IDLE_WAIT, issue 11), yet stop() ends it at once:
from another thread, from a signal handler, and with no connection at all."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from tillkey.messaging import Consumer, QueueTopology
from tillkey.messaging.consumer import IDLE_WAIT

pytestmark = pytest.mark.integration
PROMPT = 1.0  # seconds from stop() to run() returning; IDLE_WAIT is 10


@pytest.fixture
def idle_consumer(broker, service, amqp_url, wait_until):
    topology = QueueTopology(service, ("order.created",))
    broker.own(topology)
    consumer = Consumer(amqp_url, topology, lambda envelope: None)
    thread = threading.Thread(target=consumer.run, name="consumer", daemon=True)
    thread.start()
    wait_until(lambda: consumer.ready, what="the consumer to be ready")
    time.sleep(0.3)  # inside its idle wait now
    yield consumer, thread
    consumer.stop()
    thread.join(15)  # before `broker` deletes the queues


def seconds_to_return(consumer: Consumer, thread: threading.Thread, stop) -> float:
    started = time.monotonic()
    stop()
    thread.join(IDLE_WAIT + 5)
    assert not thread.is_alive(), "run() did not return after stop()"
    assert not consumer.ready
    return time.monotonic() - started


def test_an_idle_consumer_returns_within_a_second_of_stop(idle_consumer):
    consumer, thread = idle_consumer
    assert IDLE_WAIT > 3 * PROMPT  # else this would pass without the wake-up
    assert seconds_to_return(consumer, thread, consumer.stop) < PROMPT
    consumer.stop()  # again, its connection closed now: only the flag


def test_stop_from_a_signal_handler_wakes_the_consumer(idle_consumer):
    consumer, thread = idle_consumer
    previous = signal.signal(signal.SIGUSR1, lambda *_: consumer.stop())
    try:
        assert seconds_to_return(consumer, thread, lambda: os.kill(os.getpid(), signal.SIGUSR1)) < PROMPT
    finally:
        signal.signal(signal.SIGUSR1, previous)


def test_stop_before_any_connection_sets_the_flag_only(service, amqp_url):
    consumer = Consumer(amqp_url, QueueTopology(service, ("order.created",)), lambda envelope: None)
    consumer.stop()
    consumer.run()  # returns at once: it never connects
    assert not consumer.ready
