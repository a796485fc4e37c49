"""The outbox relay: publishes committed events with pipelined publisher confirms.

Why SelectConnection and not BlockingConnection: a blocking channel in confirm mode waits for
each message's confirm before the next publish (~1,250 msg/s measured). Here a whole batch is
published, the confirms arrive as they come (often one `multiple` ack), and only then are the
rows marked — one round trip per batch, not per message.

Guarantees: a row is marked published only after the broker confirmed it *and* did not return it
as unroutable (`mandatory`), so an event is never lost when the broker or a queue is missing; it
may be published twice (connection lost after the confirm, before the mark), which the consumers'
inbox absorbs.

Each reconnect tries every address of `AMQP_URL` in turn (one `SelectConnection` each, starting one
address further on every attempt), so after a cluster node goes away the relay reconnects to one
that is still up. Not pika's `SelectConnection.create_connection` over the list: in pika 1.3.2 its
abort() fails an assertion while an AMQP handshake is under way, so a relay stopping while a frozen
node holds its handshake could not let go, and its pass ends at a host name that does not resolve.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pika
from sqlalchemy import Table
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from tillkey.contracts import EXCHANGE
from tillkey.messaging.connection import (
    RECONNECT_WAIT,
    abort_unless_closed_in,
    connection_parameters,
    new_retry_state,
)
from tillkey.messaging.linger import Linger
from tillkey.messaging.observability import outbox_collectors
from tillkey.messaging.outbox_store import claim_batch, mark_published, marks_when_claiming, postpone, prune_published
from tillkey.messaging.uow import OUTBOX_CHANNEL
from tillkey.platform import metrics, tracing, workstats
from tillkey.platform.broker_addresses import rotated
from tillkey.platform.doorbell import Listener

log = logging.getLogger(__name__)
CONFIRM_TIMEOUT = 30.0
RETURNED_RETRY_SECONDS = 5.0
# On stop(), confirms already in flight get STOP_GRACE seconds to arrive (unconfirmed rows are
# simply published again later).
STOP_GRACE = 2.0


class OutboxRelay:
    def __init__(self, amqp_url: str, session_factory: Callable[[], Session], outbox: Table, name: str,
                 batch_size: int = 500, poll_interval: float = 5.0, retention: float = 86400.0,
                 linger: Linger | None = None):
        self._amqp_url = amqp_url
        self._session_factory = session_factory
        self._engine: Engine | None = None  # the session factory's engine: the relay uses Core (below)
        self._outbox = outbox
        self._name = name
        self._batch_size = batch_size
        # Only the safety net: a commit that wrote events rings the doorbell, which polls at once.
        # Every 5 s: a ring lost (the listening connection reconnecting) costs at most that, and an
        # idle relay polls rarely (issue 11's idle figure).
        self._poll_interval = poll_interval
        self._idle_timer: object | None = None  # pika's handle of the poll timer while idle
        # Published rows are deleted after `retention` (OUTBOX_RETENTION), checked when idle.
        self._retention = retention
        self._prune_every = max(0.5, min(retention, 60.0))
        self._last_prune = 0.0
        self._stopping = False
        self._conn: pika.SelectConnection | None = None
        self._opened = False  # the current connection got as far as open
        self._channel: pika.channel.Channel | None = None
        self._reset_batch()
        self._rang = False        # a commit rang while a batch was out: poll again after it settles
        self._batch_full = False  # the last claim took batch_size rows: more may be due
        # Between polls while rows keep coming: one claim, one transaction and one round of confirms
        # then carry many events (tillkey.messaging.linger, as the consumer between batches).
        self._linger = linger or Linger()
        self.published_total = 0
        self.metrics_collectors = outbox_collectors(name, session_factory, outbox)
        self._published = metrics.outbox_published.labels(name)
        self._refused_count = metrics.outbox_refused.labels(name)

    # -- lifecycle -----------------------------------------------------------------
    def stop(self) -> None:
        """Safe from a signal handler or another thread: wakes the I/O loop, which lets the batch
        in flight settle (at most STOP_GRACE) and closes the connection."""
        self._stopping = True
        conn = self._conn
        if conn is not None:
            try:
                conn.ioloop.add_callback_threadsafe(self._on_stop)
            except Exception:  # noqa: BLE001 — that loop is already closed; run() sees the flag
                pass

    def run(self) -> None:
        listener = Listener(self._db(), OUTBOX_CHANNEL, self._rung).start()
        try:
            self._run_until_stopped()
        finally:
            listener.stop()

    def _rung(self) -> None:
        """From any thread: events were committed; poll now if the relay is idle-waiting."""
        conn = self._conn
        if conn is not None and not self._stopping:
            try:
                conn.ioloop.add_callback_threadsafe(self._wake)
            except Exception:  # noqa: BLE001 — the loop is closing; the poll after reconnect finds the rows
                pass

    def _db(self) -> Engine:
        """The engine of the session factory. The relay reads and marks rows on a Core connection of
        it, not a Session: an ORM session's setup, autobegin and close were about a third of the
        relay's CPU for its two statements per batch (issue 11's profile)."""
        if self._engine is None:
            with self._session_factory() as session:
                self._engine = session.get_bind().engine  # the Engine itself, or a bound Connection's
        return self._engine

    def _wake(self) -> None:
        if self._idle_timer is not None and self._session is None:
            self._served().ioloop.remove_timeout(self._idle_timer)
            self._idle_timer = None
            self._poll()
        else:
            # A batch is in flight (or lingering): rows committed since its claim may be waiting,
            # so it polls again once it settles instead of going idle.
            self._rang = True

    def _run_until_stopped(self) -> None:
        state = new_retry_state()
        while not self._stopping:
            started = time.monotonic()
            self._run_one_connection(state.attempt_number - 1)  # tenacity counts from 1
            if self._stopping:
                break
            state = new_retry_state() if time.monotonic() - started > 60 else state
            state.attempt_number += 1
            wait = RECONNECT_WAIT(state)
            log.warning("%s relay: broker connection lost; reconnecting in %.1fs", self._name, wait)
            deadline = time.monotonic() + wait
            while not self._stopping and time.monotonic() < deadline:
                time.sleep(max(0.0, min(0.2, deadline - time.monotonic())))

    def _run_one_connection(self, attempt: int = 0) -> None:
        """Each address in turn, starting one further on every attempt, until one opens (and then
        serve it until it closes) or none did."""
        for params in rotated(connection_parameters(self._amqp_url, f"{self._name}-relay"), attempt):
            if self._stopping or self._run_connection_to(params):
                return

    def _run_connection_to(self, params) -> bool:
        """Whether the connection opened (it has been served and closed by now)."""
        self._idle_timer = None  # a timer of the last connection's loop means nothing to this one
        self._opened = False
        self._conn = conn = pika.SelectConnection(
            params,
            on_open_callback=self._on_open,
            on_open_error_callback=self._on_closed,
            on_close_callback=self._on_closed,
        )
        try:
            while True:
                try:
                    conn.ioloop.start()  # returns once _on_closed stopped it
                    break
                except Exception:  # noqa: BLE001 — a surprise in a callback must not kill the relay
                    log.exception("%s relay: unexpected error; reconnecting", self._name)
                    self._close("unexpected error")  # then run the loop again until it is closed
        finally:
            self._abandon_batch()
            self._channel = None
            # Each SelectConnection makes its own I/O loop; closing it releases its descriptors,
            # which otherwise leak on every reconnect attempt during an outage.
            conn.ioloop.close()
        return self._opened

    def _served(self) -> pika.SelectConnection:
        """The connection being served: every callback of its I/O loop runs while there is one."""
        conn = self._conn
        if conn is None:
            raise RuntimeError(f"{self._name} relay: no connection yet")
        return conn

    def _on_open(self, conn) -> None:
        self._opened = True
        conn.channel(on_open_callback=self._on_channel_open)

    def _on_closed(self, conn, reason) -> None:
        if not self._stopping:
            log.warning("%s relay connection closed: %r", self._name, reason)
        conn.ioloop.stop()

    def _on_channel_open(self, channel) -> None:
        self._channel = channel
        channel.add_on_close_callback(lambda _ch, reason: self._close(f"channel closed: {reason!r}"))
        channel.add_on_return_callback(self._on_returned)
        channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True,
                                 callback=lambda _f: channel.confirm_delivery(
                                     self._on_confirm, callback=lambda _f: self._poll()))

    def _on_stop(self) -> None:
        if self._in_flight:
            self._served().ioloop.call_later(STOP_GRACE, lambda: self._close("stopping"))
        else:
            self._close("stopping")

    def _close(self, why: str) -> None:
        conn = self._served()
        if conn.is_closed:
            conn.ioloop.stop()
        elif not conn.is_closing:  # closing already: _on_closed follows (stopping the loop here
            log.info("%s relay closing: %s", self._name, why)  # would strand an open socket)
            conn.close()
            abort_unless_closed_in(conn)  # a silent broker never sends close-ok

    # -- one batch at a time ------------------------------------------------------------
    def _reset_batch(self) -> None:
        self._session: Connection | None = None
        self._in_flight: dict[int, int] = {}   # delivery tag -> outbox seq
        self._acked: list[int] = []
        self._refused: set[int] = set()         # nacked or returned
        self._next_tag = 0
        self._deadline_timer: object | None = None  # pika's handle of the confirm timeout

    def _abandon_batch(self) -> None:
        # Nothing was marked: every row of an unfinished batch will be published again.
        if self._session is not None:
            try:
                self._session.rollback()
                self._session.close()
            except Exception:  # noqa: BLE001 — the database went away; the pool recovers later
                log.exception("%s relay could not roll back the batch", self._name)
        self._reset_batch()
        self._next_tag = 0

    def _poll(self) -> None:
        self._idle_timer = None
        if self._stopping:
            self._close("stopping")
            return
        if self._channel is None or not self._channel.is_open:
            return  # its close callback is bringing the connection down; run() reconnects
        self._rang = False  # rings from here on may be for rows this claim does not see
        try:
            self._session = self._db().connect()
            rows = claim_batch(self._session, self._outbox, self._batch_size)
        except Exception:  # noqa: BLE001 — a database hiccup must not kill the relay
            log.exception("%s relay could not read the outbox", self._name)
            self._abandon_batch_keep_tags()
            self._served().ioloop.call_later(1.0, self._poll)
            return
        if not rows:
            self._abandon_batch_keep_tags()
            self._go_idle()
            return
        self._batch_full = len(rows) >= self._batch_size
        for seq, event_id, routing_key, body in rows:
            self._next_tag += 1
            self._in_flight[self._next_tag] = seq
            body = body.encode()
            headers = {"x-outbox-seq": seq}
            if tracing.ACTIVE:  # the event's trace goes on in the AMQP header `traceparent`
                headers = tracing.publish_headers(headers, body, routing_key)
            self._channel.basic_publish(
                EXCHANGE, routing_key, body,
                pika.BasicProperties(content_type="application/json", delivery_mode=pika.DeliveryMode.Persistent,
                                     message_id=event_id, type=routing_key, headers=headers),
                mandatory=True)
        self._deadline_timer = self._served().ioloop.call_later(
            CONFIRM_TIMEOUT, lambda: self._close("confirms timed out"))

    def _go_idle(self) -> None:
        """Wait for a ring (or the safety-net poll after `poll_interval`)."""
        self._linger.reset()
        self._prune_when_due()
        self._idle_timer = self._served().ioloop.call_later(self._poll_interval, self._poll)

    def _prune_when_due(self) -> None:
        if time.monotonic() - self._last_prune < self._prune_every:
            return
        self._last_prune = time.monotonic()
        try:
            with self._session_factory() as session:
                pruned = prune_published(session, self._outbox, self._retention)
                session.commit()
            if pruned:
                log.debug("%s relay pruned %d published events", self._name, pruned)
        except Exception:  # noqa: BLE001 — pruning is housekeeping; publishing must go on
            log.exception("%s relay could not prune the outbox", self._name)

    def _abandon_batch_keep_tags(self) -> None:
        tag = self._next_tag
        self._abandon_batch()
        self._next_tag = tag

    def _on_returned(self, _ch, _method, properties, _body) -> None:
        # basic.return precedes the ack of the same message: remember it as refused.
        seq = (properties.headers or {}).get("x-outbox-seq")
        if seq is not None:
            self._refused.add(int(seq))
            log.warning("%s relay: event %s (%s) is unroutable; will retry in %.0fs",
                        self._name, properties.message_id, properties.type, RETURNED_RETRY_SECONDS)

    def _on_confirm(self, frame) -> None:
        method = frame.method
        tags = [t for t in self._in_flight if t <= method.delivery_tag] if method.multiple else [method.delivery_tag]
        nacked = isinstance(method, pika.spec.Basic.Nack)
        for tag in tags:
            seq = self._in_flight.pop(tag, None)
            if seq is None:
                continue
            if nacked:
                self._refused.add(seq)
            self._acked.append(seq)
        if not self._in_flight and self._session is not None:
            self._settle_batch(self._session)

    def _settle_batch(self, session: Connection) -> None:
        conn = self._served()
        if self._deadline_timer is not None:
            conn.ioloop.remove_timeout(self._deadline_timer)
        good = [s for s in self._acked if s not in self._refused]
        try:
            if not marks_when_claiming(session):
                mark_published(session, self._outbox, good)
            postpone(session, self._outbox, sorted(self._refused), RETURNED_RETRY_SECONDS)
            session.commit()
            self.published_total += len(good)
            workstats.count("amqp_published", len(good))
            self._published.inc(len(good))
            if self._refused:
                self._refused_count.inc(len(self._refused))
        except Exception:  # noqa: BLE001 — unmarked rows are simply published again
            log.exception("%s relay could not mark the batch", self._name)
        self._abandon_batch_keep_tags()
        if not self._batch_full and not self._rang:
            # The claim took every due row, and no commit has rung since: polling again would only
            # find nothing (an empty claim was about a third of the relay's claims, issue 11).
            self._go_idle()
            return
        # Rows committed while this batch was out are polled after the linger, so that under a
        # steady flow one poll carries many of them.
        conn.ioloop.call_later(self._linger.after_busy_round(), self._poll)
