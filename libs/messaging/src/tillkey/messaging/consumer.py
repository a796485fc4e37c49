"""The consumer loop: one connection on its own thread, ack only after the handler committed."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import pika
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection
from pika.exceptions import AMQPError

from tillkey.contracts import Envelope, InvalidMessage, parse_message
from tillkey.messaging.classic_retry_queues import retire_classic_retry_queues
from tillkey.messaging.connection import (
    RECONNECT_WAIT,
    abort_unless_closed_in,
    connection_parameters,
    new_retry_state,
)
from tillkey.messaging.dispatch import BatchFailed
from tillkey.messaging.handling import PermanentError, RetryLater
from tillkey.messaging.linger import BUSY_AFTER, BUSY_SECONDS, SHORT_SECONDS, Linger
from tillkey.messaging.observability import queue_collectors
from tillkey.messaging.retry_holder import PARKED_AT_HEADER, RetryHolder
from tillkey.messaging.topology import QueueTopology
from tillkey.platform import correlation, metrics, tracing, workstats
from tillkey.platform.broker_addresses import open_blocking_connection
from tillkey.platform.metrics import ScrapeCollector

log = logging.getLogger(__name__)
ATTEMPT_HEADER = "x-tillkey-attempt"
REASON_HEADER = "x-tillkey-dead-reason"
# The longest an idle consumer waits in the I/O loop: stop() wakes it at once and a delivery ends
# the wait, so this only bounds how often an idle worker wakes up for nothing (issue 11). pika's
# poller still returns every 5 s at most and runs the heartbeats inside the wait.
IDLE_WAIT = 10.0


class Consumer:
    """Consumes `topology.queue` and calls `handle(envelope)` for each message.

    Failure classification, and why:
    - off-contract message (bad JSON, unknown type, invalid data) or PermanentError: retrying
      cannot help, so it goes to `<service>.events.dead` at once and the next message flows;
    - any other exception: transient until proven otherwise; the message is parked in a retry
      queue whose delay grows with the attempt, then dead-lettered after the last delay (this
      consumer holds the retry queues' messages and puts each back when due: retry_holder.py);
    - a crash mid-handler: the message was not acked, the broker redelivers it; the inbox makes
      the redelivery harmless and `x-delivery-limit` dead-letters a message that kills us each time.
    Retry and dead-letter copies are published with confirms *before* the original is acked, so a
    crash in between duplicates (harmless) rather than loses.
    """

    def __init__(self, amqp_url: str, topology: QueueTopology, handle: Callable[[Envelope], None],
                 prefetch: int = 300, max_batch: int = 100, after_batch: Callable[[], None] | None = None,
                 linger: float = SHORT_SECONDS, busy_linger: float = BUSY_SECONDS,
                 busy_after: int = BUSY_AFTER):
        self._amqp_url = amqp_url
        self.topology = topology
        self._handle = handle
        self._prefetch = prefetch
        self._max_batch = max_batch
        # Between batches while messages keep coming (tillkey.messaging.linger); 0: never wait.
        self._linger = Linger(linger, busy_linger, busy_after)
        # Called after each batch committed (a wake-up for the loops that act on what it wrote).
        self._after_batch = after_batch
        self._deliveries: list = []
        self._stopping = False
        # Held by whoever is waking the loop: a signal handler that interrupts stop() on the main
        # thread must not wait for pika's locks, which that same thread already holds.
        self._waking = threading.Lock()
        self._connection: BlockingConnection | None = None
        self._side_channel: BlockingChannel | None = None  # confirmed publishes to retry and dead queues
        self._retries: RetryHolder | None = None
        self._was_ready = False
        self.ready = False  # declared and consuming (tests wait for it)
        self.metrics_collectors = [*queue_collectors(amqp_url, topology), ScrapeCollector(
            "tillkey_retries_held", "Messages this worker holds in its retry queues until they are due",
            ["service"], lambda: {(topology.service,): float(self.held_retries)})]
        self._outcomes: dict = {}  # (event type, outcome) -> its counter: one lookup per message

    @property
    def held_retries(self) -> int:
        """Messages this consumer holds until their retry is due (tests and gauges read it)."""
        retries = self._retries
        return retries.held if retries is not None else 0

    def stop(self) -> None:
        """Safe from a signal handler or another thread: wakes the I/O loop, which notices the
        flag and closes cleanly. Idle, it would otherwise wait up to IDLE_WAIT."""
        self._stopping = True
        if not self._waking.acquire(blocking=False):
            return  # a stop() this one interrupted, or another thread's, is waking it
        try:
            connection = self._connection
            if connection is not None and connection.is_open:
                # pika's one thread-safe call: it writes to the loop's wake-up socket, and
                # process_data_events returns once the (empty) callback is dispatched.
                connection.add_callback_threadsafe(_nothing)
        except Exception:  # noqa: BLE001 — the connection is closing or closed: run() sees the flag
            pass
        finally:
            self._waking.release()

    def run(self) -> None:
        retry_state = new_retry_state()
        while not self._stopping:
            self._was_ready = False
            try:
                self._consume()
            except (AMQPError, OSError) as exc:
                self.ready = False
                if self._was_ready:  # it worked until now: reconnect fast, don't keep the old backoff
                    retry_state = new_retry_state()
                retry_state.attempt_number += 1
                wait = RECONNECT_WAIT(retry_state)
                log.warning("%s consumer lost the broker (%r); reconnecting in %.1fs", self.topology.service, exc, wait)
                self._sleep(wait)

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping and time.monotonic() < deadline:
            time.sleep(max(0.0, min(0.2, deadline - time.monotonic())))

    def _consume(self) -> None:
        params = connection_parameters(self._amqp_url, f"{self.topology.service}-consumer")
        self._connection = connection = open_blocking_connection(params)
        retries: RetryHolder | None = None
        try:
            channel = connection.channel()
            self.topology.declare(channel)
            retire_classic_retry_queues(connection, self.topology)  # the upgrade path; once per connection
            channel.basic_qos(prefetch_count=self._prefetch)
            self._side_channel = side_channel = connection.channel()
            side_channel.confirm_delivery()
            self._retries = retries = RetryHolder(connection.channel(), self.topology, self._publish)
            retries.start()
            self._deliveries = []
            channel.basic_consume(self.topology.queue, self._on_delivery)
            self.ready = self._was_ready = True
            log.info("%s consumer ready on %s", self.topology.service, self.topology.queue)
            while not self._stopping:
                # Runs the I/O loop (heartbeats included); it returns as soon as deliveries came in
                # (on any channel: a retry to hold too), when stop() wakes it or when the next held
                # retry is due. Whatever arrived while the last batch was handled makes the next
                # batch: one message at light load (no added latency), up to max_batch under load.
                connection.process_data_events(time_limit=retries.seconds_to_next(IDLE_WAIT))
                retries.release_due()
                while self._deliveries and not self._stopping:
                    batch, self._deliveries = self._deliveries[:self._max_batch], self._deliveries[self._max_batch:]
                    self._handle_deliveries(channel, batch)
                    connection.process_data_events(time_limit=0)
                    retries.release_due()
                    if not self._deliveries:
                        self._linger.reset()
                        break
                    # Busy: more came in while that batch was handled. Let the next one fill.
                    wait = self._linger.after_busy_round()
                    if self._linger.short and len(self._deliveries) < self._max_batch:
                        time.sleep(wait)
                        connection.process_data_events(time_limit=0)
        finally:
            # Deliveries not handled yet are simply not acked: the broker redelivers them (the
            # held retries too, to their retry queues).
            if retries is not None:
                retries.close()
                self._retries = None
            self._deliveries = []
            self.ready = False
            if connection.is_open:
                try:
                    abort_unless_closed_in(connection._impl)  # noqa: SLF001 — else a silent broker holds stop()
                    connection.close()
                except AMQPError:
                    pass

    def _on_delivery(self, _channel, method, properties, body: bytes) -> None:
        self._deliveries.append((method, properties, body))

    def _handle_deliveries(self, channel, deliveries: list) -> None:
        """Handle a batch, then ack it with one `multiple` ack (only after everything committed)."""
        workstats.count("amqp_delivered", len(deliveries))
        if tracing.ACTIVE:
            for _method, properties, _body in deliveries:
                tracing.remember_delivery(properties)
        # `handle.handle_batch(envelopes)` (InboxDispatcher's) takes many deliveries in one
        # transaction; a handle without it gets a transaction per message.
        handle_batch = getattr(self._handle, "handle_batch", None)
        if handle_batch is None or len(deliveries) == 1:
            for method, properties, body in deliveries:
                self._on_message(channel, method, properties, body, ack=False)
        else:
            valid = []
            for method, properties, body in deliveries:
                try:
                    valid.append((method, properties, body, parse_message(body)))
                except InvalidMessage:
                    self._on_message(channel, method, properties, body, ack=False)  # dead-letters it
            self._handle_in_batches(channel, valid, handle_batch)
        channel.basic_ack(deliveries[-1][0].delivery_tag, multiple=True)
        correlation.clear()  # log lines between batches belong to no message
        tracing.forget_deliveries()
        if self._after_batch is not None:
            self._after_batch()

    def _handle_in_batches(self, channel, batch: list, handle_batch: Callable) -> None:
        """One transaction for the batch. When a message fails it: commit the ones before it,
        give that one the one-message path (retry queue or dead letters, as ever), go on after it.
        Order is kept, nothing is handled twice, a poison message costs one rollback."""
        while batch:
            try:
                handle_batch([envelope for *_, envelope in batch])
                for *_, envelope in batch:
                    self._count(envelope.type, "handled")
                return
            except BatchFailed as failed:
                if failed.index is None:  # nobody to blame: one message at a time
                    for method, properties, body, _env in batch:
                        self._on_message(channel, method, properties, body, ack=False)
                    return
                log.info("batch of %d failed at %d (%r): isolating that message",
                         len(batch), failed.index, failed.cause)
                self._handle_in_batches(channel, batch[:failed.index], handle_batch)
                method, properties, body, _env = batch[failed.index]
                self._on_message(channel, method, properties, body, ack=False)
                batch = batch[failed.index + 1:]

    def _on_message(self, channel, method, properties, body: bytes, ack: bool = True) -> None:
        headers = dict(properties.headers or {})
        attempt = _attempt(headers)
        try:
            envelope = parse_message(body)
        except InvalidMessage as exc:
            log.error("dead-lettering an off-contract message: %s", exc)
            self._park(self.topology.dead_queue, body, properties, headers, f"invalid: {exc}")
            self._count(properties.type or "(invalid)", "dead_lettered")
            if ack:
                channel.basic_ack(method.delivery_tag)
            return
        correlation.bind_event(envelope.id, envelope.correlation_id, envelope.causation_id)
        outcome = "handled"
        try:
            self._handle(envelope)
        except PermanentError as exc:
            log.error("dead-lettering %s %s: %s", envelope.type, envelope.id, exc)
            self._park(self.topology.dead_queue, body, properties, headers, f"permanent: {exc}")
            outcome = "dead_lettered"
        # No special case for OSError/AMQPError here: the handler never touches our connection, so
        # those are its own failures (a peer down: requests' ConnectionError is an OSError) and take
        # the retry path. Treating them as "our connection broke" meant redelivery in a tight loop
        # until x-delivery-limit dead-lettered the message without a reason.
        except Exception as exc:  # noqa: BLE001 — anything unexpected is retried, then dead-lettered
            if attempt >= self.topology.max_retries:
                log.error("dead-lettering %s %s after %d retries: %r", envelope.type, envelope.id, attempt, exc)
                self._park(self.topology.dead_queue, body, properties, headers, f"retries exhausted: {exc!r}")
                outcome = "dead_lettered"
            else:
                level = logging.INFO if isinstance(exc, RetryLater) else logging.WARNING
                log.log(level, "retrying %s %s (attempt %d): %r", envelope.type, envelope.id, attempt + 1, exc,
                        exc_info=level == logging.WARNING)
                headers[ATTEMPT_HEADER] = attempt + 1
                headers[PARKED_AT_HEADER] = int(time.time() * 1000)  # its delay runs from now
                self._park(self.topology.retry_queue(attempt + 1), body, properties, headers, None)
                outcome = "retried"
        self._count(envelope.type, outcome)
        if ack:
            channel.basic_ack(method.delivery_tag)

    def _count(self, event_type: str, outcome: str) -> None:
        counter = self._outcomes.get((event_type, outcome))
        if counter is None:
            counter = self._outcomes[(event_type, outcome)] = metrics.messages.labels(
                self.topology.service, event_type[:64], outcome)
        counter.inc()

    def _park(self, queue: str, body: bytes, properties, headers: dict, reason: str | None) -> None:
        if reason is not None:
            headers[REASON_HEADER] = reason[:1000]
        props = pika.BasicProperties(
            content_type=properties.content_type, delivery_mode=pika.DeliveryMode.Persistent,
            message_id=properties.message_id, type=properties.type, headers=headers,
            timestamp=int(time.time()),  # when it was parked: dead letters are dropped after a retention period
        )
        workstats.count("amqp_parked")
        self._publish(queue, body, props)

    def _publish(self, queue: str, body: bytes, properties) -> None:
        """Confirmed publish through the default exchange straight to `queue`; raises if the
        broker did not take it (nack, or returned as unroutable)."""
        side_channel = self._side_channel
        if side_channel is None:  # _consume opens it before it takes any delivery
            raise RuntimeError(f"{self.topology.service} consumer: no channel to publish on")
        side_channel.basic_publish("", queue, body, properties, mandatory=True)


def _nothing() -> None:
    """stop()'s wake-up: being dispatched is what ends process_data_events' wait."""


def _attempt(headers: dict) -> int:
    # A header we did not write (or mangled) must not crash the loop: count it as a first try.
    try:
        return max(0, int(headers.get(ATTEMPT_HEADER, 0)))
    except (TypeError, ValueError):
        return 0
