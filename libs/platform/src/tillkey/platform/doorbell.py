"""Doorbells: a committed transaction wakes the loop that acts on its rows (the outbox relay).

Why: a relay that polls every 200 ms adds up to 200 ms to every hop and keeps an idle platform
busy; one that polls every few seconds is idle-cheap but slow. A ring after the commit lets the
relay sleep long (its poll stays only as the safety net for a lost ring) and publish within
milliseconds. A ring is a hint, never a guarantee: losing one costs latency, never an event.

- In the same process (a consumer committing, the relay on another thread): a callback.
- Across processes on PostgreSQL (the API writes, the worker's relay publishes): `NOTIFY` inside
  the writing transaction (delivered only if it commits), `LISTEN` on a connection of the relay's.
- Across processes on SQLite (one machine by nature): a datagram to each listener's Unix socket
  in a folder beside the database file.

A process that has a listener of its own (a worker, whose relay runs beside its consumer) rings only
that one: no NOTIFY, no datagrams. Its own relay publishes what it commits; another replica's relay
would only race it for the rows. Skipping the NOTIFY also spares PostgreSQL its commit-time lock on
the notification queue, which serialises every committing transaction that notifies (issue 11).
"""
from __future__ import annotations

import functools
import hashlib
import logging
import os
import selectors
import socket
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from tillkey.platform.request_tx import after_commit

log = logging.getLogger(__name__)
_local: dict[tuple[str, str], list[Callable[[], None]]] = {}
_local_lock = threading.Lock()


def _key(engine: Engine, channel: str) -> tuple[str, str]:
    return (_database(engine), channel)


@functools.lru_cache(maxsize=64)  # asked at every emitting commit; an engine's URL never changes
def _database(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def notifies(session: Session | Connection, channel: str) -> bool:
    """Whether a commit of `session` must NOTIFY `channel` for other processes: on PostgreSQL, when
    this process has no listener of its own. The NOTIFY rides on a statement the transaction runs
    anyway (`tillkey.platform.sql.insert_rows(notify=…)`, the unit of work's outbox INSERT), where a
    `SELECT pg_notify` of its own would be one more round trip."""
    bind = session.get_bind() if isinstance(session, Session) else session
    return bind.dialect.name == "postgresql" and not _listens_here(bind.engine, channel)


def _listens_here(engine: Engine, channel: str) -> bool:
    with _local_lock:
        return bool(_local.get(_key(engine, channel)))


def ring_after_commit(engine: Engine | Connection, channel: str) -> None:
    """Call after the commit: wakes this process's listeners, and other processes' on SQLite.

    Inside a request transaction the unit of work's commit was only a savepoint: the ring waits
    for the request's real commit (a relay woken earlier would find nothing yet and sleep on).
    """
    bound = engine.engine  # a session joined to a request binds a Connection; an Engine is its own
    after_commit(lambda: _ring(bound, channel), bound)


def _ring(engine: Engine, channel: str) -> None:
    with _local_lock:
        callbacks = list(_local.get(_key(engine, channel), ()))
    for callback in callbacks:
        callback()
    if callbacks:
        return  # this process's own listener publishes it (the module's docstring)
    folder = _socket_folder(engine)
    if folder is None:
        return
    try:
        names = [n for n in os.listdir(folder) if n.startswith(f"{channel}-") and n.endswith(".sock")]
    except FileNotFoundError:
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        for name in names:
            path = folder / name
            if name == f"{channel}-{os.getpid()}.sock":
                continue  # this process was rung above
            try:
                sock.sendto(b"!", str(path))
            except (ConnectionRefusedError, FileNotFoundError):
                _unlink(path)  # its process is gone
            except (BlockingIOError, OSError):
                pass  # its buffer is full: it has rings waiting already


class Listener:
    """Calls `callback` (on a thread of its own, or the ringer's) whenever `channel` rings."""

    def __init__(self, engine: Engine, channel: str, callback: Callable[[], None]):
        self._engine, self._channel, self._callback = engine, channel, callback
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._path: Path | None = None
        # stop() writes to this pair, which the thread waits on beside its socket: an idle listener
        # sleeps until a ring or stop(), instead of waking every second to look (issue 11).
        self._stop_reader: socket.socket | None = None
        self._stop_writer: socket.socket | None = None

    def start(self) -> Listener:
        with _local_lock:
            _local.setdefault(_key(self._engine, self._channel), []).append(self._callback)
        dialect = self._engine.dialect.name
        target = self._listen_postgres if dialect == "postgresql" else self._listen_socket
        if dialect == "postgresql" or _socket_folder(self._engine) is not None:
            self._stop_reader, self._stop_writer = socket.socketpair()
            self._thread = threading.Thread(target=self._listen, args=(target,), name=f"doorbell-{self._channel}",
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with _local_lock:
            callbacks = _local.get(_key(self._engine, self._channel), [])
            if self._callback in callbacks:
                callbacks.remove(self._callback)
        writer = self._stop_writer
        if writer is not None:  # the thread closes its end when it leaves
            try:
                writer.send(b"!")
            except OSError:  # a second stop(), or the thread has left already
                pass
            finally:
                writer.close()

    def _listen(self, target: Callable[[socket.socket], None]) -> None:
        stop_reader = self._stop_reader
        if stop_reader is None:  # start() made it before the thread
            return
        try:
            target(stop_reader)
        finally:
            stop_reader.close()

    def _listen_postgres(self, stop_reader: socket.socket) -> None:
        import psycopg

        url = self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stopping.is_set():
            try:
                with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn, \
                        selectors.DefaultSelector() as readable:
                    conn.execute(f'LISTEN "{self._channel}"')
                    self._callback()  # rings missed while we were not listening
                    readable.register(conn.fileno(), selectors.EVENT_READ)
                    readable.register(stop_reader, selectors.EVENT_READ)
                    while not self._stopping.is_set():
                        # Wait in the kernel until the socket has something (or stop()), then take
                        # what came. psycopg's own wait (`notifies(timeout=…)`) wakes every 0.1 s:
                        # ten wake-ups a second per listener, a good part of an idle platform's CPU
                        # (issue 11).
                        readable.select()
                        if not self._stopping.is_set():
                            for _ in conn.notifies(timeout=0):
                                self._callback()
            except Exception as exc:  # noqa: BLE001 — the database restarts: listen again shortly
                log.debug("doorbell %s: %r; listening again in 1s", self._channel, exc)
                self._stopping.wait(1.0)

    def _listen_socket(self, stop_reader: socket.socket) -> None:
        folder = _socket_folder(self._engine)
        if folder is None:  # start() runs this only for an engine that has a socket folder
            return
        folder.mkdir(parents=True, exist_ok=True)
        self._path = folder / f"{self._channel}-{os.getpid()}.sock"
        _unlink(self._path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(str(self._path))
        except OSError as exc:  # the poll remains: slower, never lossy
            log.warning("doorbell %s: cannot listen on %s (%r); polling only", self._channel, self._path, exc)
            sock.close()
            return
        sock.setblocking(False)
        try:
            with selectors.DefaultSelector() as readable:
                readable.register(sock, selectors.EVENT_READ)
                readable.register(stop_reader, selectors.EVENT_READ)
                while not self._stopping.is_set():
                    readable.select()
                    if self._stopping.is_set():
                        break
                    try:
                        sock.recv(64)
                    except BlockingIOError:
                        continue
                    except OSError:
                        break
                    self._callback()
        finally:
            sock.close()
            _unlink(self._path)


def _socket_folder(engine: Engine) -> Path | None:
    """A short folder per database file (a Unix socket path may not exceed 107 bytes)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    digest = hashlib.sha1(str(Path(database).resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "tillkey-doorbells" / digest


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
