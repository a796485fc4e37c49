"""One SQLite transaction at a time per process, queued on a lock instead of SQLite's busy handler.

Every SQLite transaction here takes the write lock at BEGIN (`BEGIN IMMEDIATE`, see db.py). When
the lock is taken, SQLite's busy handler makes the caller sleep and try again — 1, 2, 5, 10, …
then 100 ms at a time — so under load a transaction often waits tens of milliseconds for a lock
that was free after one. With eight request threads in a process that wait was the order
creation's tail (`make bench`, docs/benchmark.md). Threads of one process now queue on a Python
lock held from BEGIN to COMMIT or ROLLBACK and go the moment it is released; only processes still
meet in SQLite's busy handler, one thread from each.

The gate is released after the COMMIT or ROLLBACK, which it runs itself so that the next thread
never finds the file still locked. A connection that goes back to the pool still holding it
(a transaction abandoned by an error path) releases it there. As a last resort a thread that waited
`GATE_TIMEOUT` goes on without it and says so in the log: SQLite's own lock still keeps the data
safe, only the queueing is lost.
"""
from __future__ import annotations

import logging
import threading
import weakref

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)
GATE_TIMEOUT = 30.0  # seconds: busy_timeout's, the longest a transaction waits for SQLite's lock
_HELD = "tillkey_sqlite_gate"  # key in the connection record's info: this connection holds the gate


_GATES: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


def gate_of(engine: Engine) -> threading.Lock | None:
    """The engine's gate (None for an engine without one): to see whether it is held."""
    return _GATES.get(engine)


def install_gate(engine: Engine, begin) -> threading.Lock:
    """Queue `engine`'s transactions on one lock; `begin(conn)` starts the transaction itself."""
    gate = threading.Lock()
    _GATES[engine] = gate

    def release(info: dict) -> None:
        if info.pop(_HELD, False):
            gate.release()

    @event.listens_for(engine, "begin")
    def _enter(conn):
        if not conn.info.get(_HELD):
            if gate.acquire(timeout=GATE_TIMEOUT):  # read at call time: tests shorten it
                conn.info[_HELD] = True
            else:
                log.warning("waited %.0f s for this process's SQLite gate; going on without it", GATE_TIMEOUT)
        try:
            begin(conn)
        except BaseException:
            release(conn.info)
            raise

    @event.listens_for(engine, "commit")
    def _commit(conn):
        # COMMIT here, then open the gate: the driver's own commit that follows finds no transaction
        # and does nothing (pysqlite commits only when one is open).
        try:
            conn.connection.dbapi_connection.execute("COMMIT")
        finally:
            if not conn.connection.dbapi_connection.in_transaction:
                release(conn.info)

    @event.listens_for(engine, "rollback")
    def _rollback(conn):
        try:
            if not conn.invalidated:
                conn.connection.dbapi_connection.rollback()  # the driver's own one then finds nothing to do
        finally:
            release(conn.info)

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn, record):
        release(record.info)

    return gate
