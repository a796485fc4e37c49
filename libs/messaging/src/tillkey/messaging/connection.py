"""Connection parameters, the reconnect policy and a bounded close, shared by the relay and the consumer.

`AMQP_URL` may list several nodes of one cluster (tillkey.platform.broker_addresses): each connection
tries them in the order given, so a reconnect after a node went away lands on one that is still up.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pika
from pika.exceptions import AMQPConnectionError
from tenacity import RetryCallState, Retrying, wait_exponential_jitter

from tillkey.platform.broker_addresses import broker_parameters, open_blocking_connection

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 30
# Reconnect quickly at first (a broker restart takes seconds), never slower than every 30 s.
RECONNECT_WAIT = wait_exponential_jitter(initial=0.5, max=30, jitter=0.5)
# How long a graceful AMQP close may wait for the broker's close-ok before the socket is dropped.
CLOSE_TIMEOUT = 2.0


def new_retry_state() -> RetryCallState:
    """A fresh attempt count for RECONNECT_WAIT. Its wait strategy reads only `attempt_number`;
    tenacity's state needs a Retrying all the same, which is never run."""
    return RetryCallState(Retrying(), None, (), {})


def connection_parameters(amqp_url: str, name: str) -> list[pika.URLParameters]:
    """For the long-lived loops: one pass over the addresses per attempt (our own backoff between passes)."""
    every = broker_parameters(amqp_url)
    for params in every:
        # Heartbeats are serviced only while pika's I/O loop runs; both our loops run it continuously.
        params.heartbeat = HEARTBEAT_SECONDS
        params.blocked_connection_timeout = 60
        params.connection_attempts = 1
        params.socket_timeout = 5
        params.client_properties = {"connection_name": name}
    return every


@contextmanager
def short_connection(amqp_url: str, name: str, socket_timeout: float | None = None
                     ) -> Iterator[pika.BlockingConnection]:
    """A connection for one job (a sweep, an admin command, a scrape), on the first address that
    answers; closed afterwards, which gives back every message taken and not acked."""
    every = broker_parameters(amqp_url)
    for params in every:
        params.client_properties = {"connection_name": name}
        params.connection_attempts = 1
        if socket_timeout is not None:
            params.socket_timeout = socket_timeout
    connection = open_blocking_connection(every)
    try:
        yield connection
    finally:
        if connection.is_open:
            connection.close()


def abort_unless_closed_in(conn: pika.SelectConnection, seconds: float = CLOSE_TIMEOUT) -> None:
    """Schedule, on `conn`'s I/O loop, dropping its socket if it is not closed by then.

    pika's close has no timeout: with a broker gone silent (network partition, frozen host) a
    close waits for a close-ok until the heartbeat gives up, about a minute, and stop() with it.
    Dropping the stream is what pika's own heartbeat checker does with a dead peer. For a
    BlockingConnection pass its `_impl`: its blocking close() runs these timers while it waits.
    """
    def abort() -> None:
        if not conn.is_closed:
            log.warning("the broker did not answer the close within %.0fs; dropping the socket", seconds)
            conn._terminate_stream(AMQPConnectionError("close not acknowledged"))  # noqa: SLF001

    conn.ioloop.call_later(seconds, abort)
