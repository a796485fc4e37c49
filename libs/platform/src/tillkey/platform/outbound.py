"""POSTs to merchants' servers (webhook endpoints, license web services) over kept connections.

Why: a new TCP (and TLS) connection per call costs handshakes on both sides and a socket in
TIME_WAIT for every webhook. Each origin (scheme, host, port) gets one urllib3 pool shared by all
sending threads (urllib3 pools are thread-safe; requests sessions are not), and a connection goes
back to it once its answer has been read. Every guarantee of a one-off call still holds:
- the SSRF guard (urls.py) checks the address of every new connection; a kept connection stays
  with the address checked when it was opened, so a DNS answer that changes applies to the next one;
- no redirects, no retries by urllib3, no proxy from the environment;
- at most `max_bytes` of the answer are read; the rest is drained only when small (DRAIN_BYTES) and
  within the time budget, else the connection is closed: unread bytes never reach the next call;
- a connection that timed out or broke is closed, never kept;
- idle connections close after IDLE_SECONDS, or once the server has closed them, and at most
  MAX_ORIGINS origins are kept (the least recently used goes first).
A kept connection that the server closed just as we sent (it answered nothing) is tried once more on
a new connection: the callers retry a failed connection later anyway, so this adds no duplicate
the receiver could not already see, and it saves an attempt and its retry delay.
"""
from __future__ import annotations

import http.client
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from requests.utils import DEFAULT_CA_BUNDLE_PATH
from urllib3 import HTTPConnectionPool, HTTPResponse, HTTPSConnectionPool, Timeout
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError, LocationParseError, NewConnectionError, ProtocolError
from urllib3.exceptions import TimeoutError as U3TimeoutError
from urllib3.util import parse_url as u3_parse_url
from urllib3.util.connection import is_connection_dropped

from tillkey.platform.idle import IdleCloser
from tillkey.platform.urls import Resolver, UnsafeUrl, guarded_connection_classes, parse_url

IDLE_SECONDS = 60.0
MAX_ORIGINS = 256
DRAIN_BYTES = 64 * 1024
_CHUNK = 16 * 1024


class OutboundTimeout(Exception):
    """No connection, or no answer, within the timeout."""


class OutboundFailed(Exception):
    """The connection could not be made or broke off; str() says how."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes  # at most max_bytes
    read_error: Exception | None = None  # the body broke off or timed out; the status still stands


class _KeptPool(HTTPConnectionPool):
    """A urllib3 pool that stamps connections as they go back, drops those idle too long, and
    remembers per thread whether the connection it handed out was a kept one."""

    clock: Callable[[], float]
    idle_seconds: float
    handed: threading.local

    def _get_conn(self, timeout=None):
        conn = super()._get_conn(timeout)  # already drops a connection the server closed
        kept = conn.sock is not None
        if kept and self.clock() - getattr(conn, "rested_at", 0.0) > self.idle_seconds:
            conn.close()  # the next request opens (and checks) a new one
            kept = False
        self.handed.kept = kept
        return conn

    def _put_conn(self, conn):
        if conn is not None:
            conn.rested_at = self.clock()
        super()._put_conn(conn)

    def take_idle(self, before: float) -> tuple[list[HTTPConnection], float | None]:
        """Takes the resting connections idle since `before` (or closed by the server) out of the
        pool; returns them and the oldest rest time among those left."""
        taken: list[HTTPConnection] = []
        oldest: float | None = None
        slots = self.pool
        if slots is None:
            return taken, None
        with slots.mutex:
            for i, conn in enumerate(slots.queue):
                if conn is None or conn.sock is None:
                    continue
                rested = getattr(conn, "rested_at", 0.0)
                if rested <= before or is_connection_dropped(conn):
                    slots.queue[i] = None  # an empty slot: the pool opens a new connection there
                    taken.append(conn)
                else:
                    oldest = rested if oldest is None else min(oldest, rested)
        return taken, oldest


@dataclass(eq=False)
class _Origin:
    pool: _KeptPool
    busy: int = 0
    retired: bool = False  # pushed out of the LRU while in use: the last user closes it


class OutboundHttp:
    """Thread-safe: one per adapter, shared by all its sending threads. `per_origin` bounds the
    connections kept per origin (above it, extra ones close after their call), so it should be at
    least the number of sending threads."""

    def __init__(self, *, allow_private: bool = False, resolver: Resolver = socket.getaddrinfo,
                 per_origin: int = 32, max_origins: int = MAX_ORIGINS, idle_seconds: float = IDLE_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        http_conn, https_conn = ((HTTPConnection, HTTPSConnection) if allow_private
                                 else guarded_connection_classes(resolver))
        self._pool_classes = {
            "http": type("KeptHTTPPool", (_KeptPool, HTTPConnectionPool), {"ConnectionCls": http_conn}),
            "https": type("KeptHTTPSPool", (_KeptPool, HTTPSConnectionPool), {"ConnectionCls": https_conn}),
        }
        self._per_origin, self._max_origins = per_origin, max_origins
        self._idle, self._clock = idle_seconds, clock
        self._origins: OrderedDict[tuple[str, str, int], _Origin] = OrderedDict()
        self._lock = threading.Lock()
        self._closer = IdleCloser(self._sweep, "outbound-http-idle")

    def post(self, url: str, body: bytes, headers: Mapping[str, str], *, timeout: float,
             max_bytes: int) -> Answer:
        """Raises UnsafeUrl (refused by the guard), OutboundTimeout or OutboundFailed."""
        started = time.monotonic()
        scheme, host, port = parse_url(url)
        try:
            target = u3_parse_url(url).request_uri
        except LocationParseError as exc:
            raise UnsafeUrl(f"The URL is malformed: {exc}.") from None
        origin = self._checkout((scheme, host.lower(), port))
        try:
            resp = _send(origin.pool, target, body, dict(headers), timeout)
            return _answer(resp, max_bytes, deadline=started + timeout)
        finally:
            self._checkin(origin)

    def connections(self) -> int:
        """How many connections are kept open now (for tests and metrics)."""
        with self._lock:
            pools = [o.pool for o in self._origins.values()]
        return sum(1 for p in pools if p.pool is not None
                   for c in list(p.pool.queue) if c is not None and c.sock is not None)

    def close(self) -> None:
        self._closer.stop()
        with self._lock:
            origins = list(self._origins.values())
            self._origins.clear()
        for origin in origins:
            origin.pool.close()

    def _checkout(self, key: tuple[str, str, int]) -> _Origin:
        pushed_out = []
        with self._lock:
            origin = self._origins.get(key)
            if origin is None:
                origin = self._origins[key] = _Origin(self._new_pool(*key))
                while len(self._origins) > self._max_origins:
                    _, old = self._origins.popitem(last=False)
                    old.retired = True
                    if not old.busy:
                        pushed_out.append(old)
            else:
                self._origins.move_to_end(key)
            origin.busy += 1
        for old in pushed_out:
            old.pool.close()
        return origin

    def _checkin(self, origin: _Origin) -> None:
        with self._lock:
            origin.busy -= 1
            close = origin.retired and not origin.busy
        if close:
            origin.pool.close()
        else:
            self._closer.kept()

    def _new_pool(self, scheme: str, host: str, port: int) -> _KeptPool:
        options: dict = {"maxsize": self._per_origin, "block": False, "retries": False}
        if scheme == "https":  # verified as requests verifies: CERT_REQUIRED against certifi's bundle
            options.update(cert_reqs="CERT_REQUIRED", ca_certs=DEFAULT_CA_BUNDLE_PATH)
        pool = self._pool_classes[scheme](host, port, **options)
        pool.clock, pool.idle_seconds, pool.handed = self._clock, self._idle, threading.local()
        return pool

    def _sweep(self) -> float | None:
        now = self._clock()
        stale, gone, oldest = [], [], None
        with self._lock:
            for key, origin in list(self._origins.items()):
                taken, rested = origin.pool.take_idle(now - self._idle)
                stale += taken
                if rested is not None:
                    oldest = rested if oldest is None else min(oldest, rested)
                elif not origin.busy:
                    del self._origins[key]
                    gone.append(origin.pool)
        for conn in stale:
            conn.close()
        for pool in gone:
            pool.close()
        return None if oldest is None else oldest + self._idle - now


def _send(pool, target: str, body: bytes, headers: dict, timeout: float) -> HTTPResponse:
    for last_try in (False, True):
        try:
            return pool.urlopen("POST", target, body=body, headers=headers, retries=False, redirect=False,
                                assert_same_host=False, timeout=Timeout(connect=timeout, read=timeout),
                                preload_content=False, release_conn=False, decode_content=True)
        except ProtocolError as exc:
            server_closed_kept = isinstance(exc.args[-1], ConnectionError) and getattr(pool.handed, "kept", False)
            if last_try or not server_closed_kept:
                raise OutboundFailed(_describe(exc)) from exc
        except NewConnectionError as exc:  # before TimeoutError: urllib3 derives it from ConnectTimeoutError
            raise OutboundFailed(_describe(exc)) from exc
        except U3TimeoutError as exc:
            raise OutboundTimeout(str(exc)) from exc
        except (HTTPError, OSError, http.client.HTTPException) as exc:
            raise OutboundFailed(_describe(exc)) from exc
    raise AssertionError("unreachable")


def _answer(resp: HTTPResponse, max_bytes: int, deadline: float) -> Answer:
    error = None
    try:
        body = resp.read(max_bytes, decode_content=True) or b""
    except Exception as exc:  # noqa: BLE001 — a broken or slow body; the caller decides what it means
        body, error = b"", exc
    if error is not None or not _read_to_end(resp, deadline):
        resp.close()  # closes the connection; the pool opens a new one in its slot
    resp.release_conn()
    return Answer(resp.status, resp.headers, body, error)


def _read_to_end(resp: HTTPResponse, deadline: float) -> bool:
    """True once the whole answer is read, so its connection can carry the next call."""
    if resp.isclosed():
        return True
    left = resp.length_remaining
    if (left is None and not resp.chunked) or (left is not None and left > DRAIN_BYTES):
        return False  # a body that ends when the server closes, or too much to be worth reading
    drained = 0
    try:
        while drained <= DRAIN_BYTES and time.monotonic() < deadline:
            chunk = resp.read(_CHUNK, decode_content=True)
            if not chunk:
                return resp.isclosed()
            drained += len(chunk)
    except Exception:  # noqa: BLE001 — it broke while draining: not reusable, and nothing more to say
        return False
    return False


def _describe(exc: Exception) -> str:
    cause = exc.args[-1] if isinstance(exc, ProtocolError) and exc.args else exc
    return f"{type(cause).__name__}: {cause}"[:300]
