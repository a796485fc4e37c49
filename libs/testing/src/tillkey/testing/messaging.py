"""Driving the real broker from tests: publish golden samples, run worker loops, wait for effects."""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

import pika

from tillkey.contracts import EXCHANGE, Envelope, load_sample, parse_message


def sample_envelope(type: str, version: int = 1, *, new_id: bool = False, **data) -> Envelope:
    """The golden sample of `type` as a consumer sees it, with `data` fields overridden.

    `new_id=True` gives it a fresh event id (a different message that says the same thing).
    """
    raw = load_sample(type, version)
    raw["data"].update(data)
    if new_id:
        raw["id"] = "evt_" + uuid.uuid4().hex
    return parse_message(json.dumps(raw))


def _connect(amqp_url: str) -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.URLParameters(amqp_url))


def publish(amqp_url: str, message: Envelope | dict, *, times: int = 1) -> None:
    """Publish to `tillkey.events` with the type as routing key, confirmed, `times` times."""
    body = message.to_dict() if isinstance(message, Envelope) else message
    conn = _connect(amqp_url)
    try:
        channel = conn.channel()
        channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
        channel.confirm_delivery()
        props = pika.BasicProperties(content_type="application/json", message_id=body["id"], type=body["type"],
                                     delivery_mode=pika.DeliveryMode.Persistent)
        for _ in range(times):
            channel.basic_publish(EXCHANGE, body["type"], json.dumps(body).encode(), props, mandatory=True)
    finally:
        conn.close()


def declare_fresh(amqp_url: str, topology) -> None:
    """Declare a service's queues and empty them, so one test never sees another's leftovers."""
    conn = _connect(amqp_url)
    try:
        channel = conn.channel()
        topology.declare(channel)
        for queue in (topology.queue, topology.dead_queue):
            channel.queue_purge(queue)
    finally:
        conn.close()


def queue_depth(amqp_url: str, queue: str) -> int:
    conn = _connect(amqp_url)
    try:
        return conn.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        conn.close()


def bind_probe(amqp_url: str, *routing_keys: str) -> str:
    """A fresh queue bound to `routing_keys` on the events exchange: what a service published."""
    name = "probe." + uuid.uuid4().hex[:12]
    conn = _connect(amqp_url)
    try:
        channel = conn.channel()
        channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
        channel.queue_declare(name, durable=False, auto_delete=False, arguments={"x-expires": 600_000})
        for key in routing_keys:
            channel.queue_bind(name, EXCHANGE, routing_key=key)
    finally:
        conn.close()
    return name


def drain(amqp_url: str, queue: str, *, expect: int, timeout: float = 15.0) -> list[dict]:
    """Messages from `queue` until `expect` arrived or `timeout` passed (then whatever came)."""
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    conn = _connect(amqp_url)
    try:
        channel = conn.channel()
        while len(got) < expect and time.monotonic() < deadline:
            method, _props, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                conn.sleep(0.05)
                continue
            got.append(json.loads(body))
    finally:
        conn.close()
    return got


def wait_until(predicate: Callable[[], object], *, timeout: float = 15.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


class CountingHandler:
    """Wraps a consumer's handle function and counts messages it finished (handled or raised)."""

    def __init__(self, handle: Callable[[Envelope], None]):
        self._handle = handle
        self._lock = threading.Lock()
        self.seen: list[str] = []

    def __call__(self, envelope: Envelope) -> None:
        try:
            self._handle(envelope)
        finally:
            with self._lock:
                self.seen.append(envelope.id)


@contextmanager
def running(**loops) -> Iterator[dict]:
    """Run worker loops (Consumer, OutboxRelay: `run()`/`stop()`) on threads for the block."""
    errors: dict[str, BaseException] = {}

    def guard(name, loop):
        try:
            loop.run()
        except BaseException as exc:  # noqa: BLE001 — reported when the block ends
            errors[name] = exc

    threads = [threading.Thread(target=guard, args=item, name=item[0], daemon=True) for item in loops.items()]
    for t in threads:
        t.start()
    try:
        for name, loop in loops.items():
            if hasattr(loop, "ready"):
                wait_until(partial(getattr, loop, "ready"), what=f"{name} ready")
        yield loops
    finally:
        for loop in loops.values():
            loop.stop()
        for t in threads:
            t.join(timeout=15)
    if errors:
        raise AssertionError(f"worker loops crashed: {errors!r}")
