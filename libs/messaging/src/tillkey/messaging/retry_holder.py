"""The way back from a retry queue: the consumer holds what waits there and republishes it when due.

A message the handler could not handle yet is parked in `<service>.events.retry.held.<N>ms` with the
time it was parked (consumer.py). The service's consumer takes every retry queue's messages on its
own channel, holds them unacked and, when a message's delay is over, publishes it to the main queue
(confirmed) and only then acks it. Only consume, publish and ack are involved: what survives the
loss of a broker node for the main queue survives it here. A broker-side TTL with dead-lettering did
this before and depended on the queue leader's dead-letter worker, which a leader change could leave
missing for good (topology.py).

- A crash, a lost connection or a stop gives the held messages back to their queue (unacked), with
  their parking time in a header: the next consumer releases each when it was due anyway.
- Each retry queue has its own prefetch (per consumer), so a full long-delay queue never keeps a
  short-delay message waiting behind it. What a consumer cannot hold waits in the queue, in order.
- The broker closes a channel holding a delivery longer than its `consumer_timeout` (30 min by
  default). A message due later than HOLD_LIMIT from its delivery is republished to the tail of its
  own retry queue after HOLD_LIMIT, parking time unchanged, and acked: a 1 h delay is a few hops.
- A publish to the main queue is a copy before the ack: a crash in between leaves a duplicate,
  which the consumers' inbox absorbs.
- Erasure (dead_letters_erasure.py) sweeps the retry queues from its own connection, and a held
  message is invisible to it: `given_back(service)` makes this thread's holders return what they
  hold to their queues for the sweep, and take it again afterwards.
"""
from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

from tillkey.messaging.topology import QueueTopology

PARKED_AT_HEADER = "x-tillkey-parked-at-ms"
# Messages held at once per retry queue (per consumer): memory is a few kB each.
HOLD_PREFETCH = 200
# Well under RabbitMQ's consumer_timeout (30 min by default; operators sometimes lower it).
HOLD_LIMIT = 300.0
# The holders of this process by service, for `given_back`; a holder leaves when its connection closes.
_holders: dict[str, list[RetryHolder]] = {}
_holders_lock = threading.Lock()


def parked_at(properties, now: float) -> float:
    """When the message was parked, in seconds: our header (ms), else the AMQP timestamp (whole
    seconds, set by older versions), else now. A header someone mangled counts as now."""
    headers = properties.headers or {}
    try:
        if PARKED_AT_HEADER in headers:
            return int(headers[PARKED_AT_HEADER]) / 1000
        if properties.timestamp:
            return float(properties.timestamp)
    except (TypeError, ValueError):
        pass
    return now


class RetryHolder:
    """Holds the deliveries of `topology`'s retry queues on `channel`; `release_due()` puts back
    those due, through `publish(queue, body, properties)` (a confirmed, mandatory publish)."""

    def __init__(self, channel, topology: QueueTopology, publish: Callable[[str, bytes, object], None],
                 now: Callable[[], float] = time.time, prefetch: int = HOLD_PREFETCH,
                 hold_limit: float = HOLD_LIMIT):
        self._channel = channel
        self._topology = topology
        self._publish = publish
        self._now = now
        self._prefetch = prefetch
        self._hold_limit = hold_limit
        self._order = itertools.count()  # ties in the heap never compare the properties
        self._tags: list[str] = []
        self._thread: int | None = None
        # (release at, order, delivery tag, its queue, due at, properties, body)
        self._held: list[tuple] = []

    def start(self) -> None:
        # Per-consumer prefetch (global=False): each retry queue gets `prefetch` of its own.
        self._channel.basic_qos(prefetch_count=self._prefetch, global_qos=False)
        self._consume()
        self._thread = threading.get_ident()
        with _holders_lock:
            _holders.setdefault(self._topology.service, []).append(self)

    def close(self) -> None:
        """Forget this holder (its connection is closing: the broker takes back what it held)."""
        with _holders_lock:
            mine = _holders.get(self._topology.service, [])
            if self in mine:
                mine.remove(self)
        self._held.clear()

    def _consume(self) -> None:
        self._tags = [self._channel.basic_consume(queue, partial(self._on_delivery, queue, delay))
                      for delay in self._topology.distinct_delays
                      for queue in [self._topology.retry_queue_for(delay)]]

    def give_back(self) -> None:
        """Stop taking, and return everything held (or delivered and not seen yet) to its queue."""
        for tag in self._tags:
            self._channel.basic_cancel(tag)
        self._channel.basic_nack(delivery_tag=0, multiple=True, requeue=True)
        self._held.clear()
        self._tags = []

    def take_again(self) -> None:
        self._consume()

    @property
    def held(self) -> int:
        return len(self._held)

    def seconds_to_next(self, at_most: float) -> float:
        """How long the I/O loop may wait before the next release."""
        if not self._held:
            return at_most
        return max(0.0, min(at_most, self._held[0][0] - self._now()))

    def release_due(self) -> int:
        """Republish every held message whose time came; returns how many went to the main queue."""
        released = 0
        while self._held and self._held[0][0] <= self._now():
            _release_at, _, tag, queue, due, properties, body = heapq.heappop(self._held)
            if due <= self._now():
                self._publish(self._topology.queue, body, properties)
                released += 1
            else:  # held for HOLD_LIMIT and not due yet: back to the tail, parking time kept
                self._publish(queue, body, properties)
            self._channel.basic_ack(tag)
        return released

    def _on_delivery(self, queue: str, delay: float, _channel, method, properties, body: bytes) -> None:
        now = self._now()
        due = parked_at(properties, now) + delay
        release_at = min(due, now + self._hold_limit)
        heapq.heappush(self._held, (release_at, next(self._order), method.delivery_tag, queue, due,
                                    properties, body))


@contextmanager
def given_back(service: str) -> Iterator[None]:
    """While inside: the retry messages this thread's holders of `service` held wait in their
    queues, where a sweep can reach them. Only this thread's: a channel belongs to one thread."""
    with _holders_lock:
        mine = [h for h in _holders.get(service, []) if h._thread == threading.get_ident()]  # noqa: SLF001
    for holder in mine:
        holder.give_back()
    try:
        yield
    finally:
        for holder in mine:
            holder.take_again()
