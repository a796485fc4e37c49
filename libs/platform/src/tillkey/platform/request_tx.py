"""One database transaction for a whole request: its effects and its stored answer commit together.

Why (issue 18): an `Idempotency-Key` claimed in a transaction of its own outlived a request whose
process died (the retry met 409 for minutes), and an answer stored after the effect's commit could
be lost with the process (the cart checked out, the customer never told the order id). Inside a
request transaction the key's row, every unit of work's writes and the stored answer are one
commit: a crash or a database restart at any point rolls all of it back, the database drops the
request's locks with its connection, and the retry runs at once — or finds the answer committed.

Units of work built while one is open (`tillkey.platform.db.make_session_factory`) join it: their
`commit()` releases a savepoint, the real commit is the request's. Work that must not run inside a
transaction (an HTTP call to a payment gateway) is handed to `after_commit`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

# PostgreSQL ends a request transaction left idle this long (a client host that vanished without
# closing its connection), so the key it holds is free again; far above any request's own pauses.
IDLE_IN_TRANSACTION_TIMEOUT = "30s"


@dataclass
class RequestTransaction:
    engine: Engine
    connection: Connection
    callbacks: list[Callable[[], None]] = field(default_factory=list)


_current: ContextVar[RequestTransaction | None] = ContextVar("tillkey_request_tx", default=None)


@contextmanager
def request_transaction(engine: Engine) -> Iterator[RequestTransaction]:
    """Open the request's transaction (SQLite: BEGIN IMMEDIATE, so same-key requests queue).

    Leaving the block without `commit(tx)` rolls everything back.
    """
    connection = engine.connect()
    tx = RequestTransaction(engine, connection)
    token = _current.set(tx)
    try:
        connection.begin()
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"SET LOCAL idle_in_transaction_session_timeout = '{IDLE_IN_TRANSACTION_TIMEOUT}'"))
        yield tx
    finally:
        _current.reset(token)
        try:
            connection.close()  # rolls back whatever was not committed
        except Exception:  # noqa: BLE001 — the connection may be gone with the database; nothing to undo
            log.debug("closing a request transaction's connection failed", exc_info=True)


def commit(tx: RequestTransaction) -> None:
    """Commit, then run the work that waited for it (outside any transaction of this request)."""
    tx.connection.commit()
    token = _current.set(None)
    try:
        for callback in tx.callbacks:
            try:
                callback()
            except Exception:  # noqa: BLE001 — committed is committed; the callback's owner has a safety net
                log.exception("work after a request's commit failed")
    finally:
        _current.reset(token)


def connection_for(engine: Engine) -> Connection | None:
    """The open request transaction's connection, if this request has one on `engine`."""
    tx = _current.get()
    return tx.connection if tx is not None and tx.engine is engine else None


def after_commit(callback: Callable[[], None], engine: Engine | None = None) -> None:
    """Run `callback` once the request's transaction committed (dropped if it rolls back); at once
    when no request transaction is open (on `engine`, if given)."""
    tx = _current.get()
    if tx is None or (engine is not None and tx.engine is not engine):
        callback()
    else:
        tx.callbacks.append(callback)
