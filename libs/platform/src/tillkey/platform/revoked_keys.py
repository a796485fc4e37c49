"""Revoked merchant API keys: each service's own denylist, read from memory on the hot path.

API keys stay self-verifying (tillkey.platform.credentials): every service checks the MAC alone.
What a MAC cannot say is "withdrawn", so orders, which keeps the key registry, publishes
`merchant.api_key_revoked` through its outbox, and every service writes the key id into its own
`revoked_api_keys` table (the inbox handler `deny_revoked_api_key` below; orders writes its own in
the revoking transaction). The Authenticator asks `RevokedKeys`, an in-process copy of that table
read again at most every `REFRESH_SECONDS`: no SQL per request, no call to another service, and a
revoked key is refused everywhere within the event's trip plus one refresh (docs/architecture.md,
"Revoked API keys").

The table holds revoked keys only (a few per merchant over years), so the copy is the whole set,
read in one query; reading it whole (not "rows since the last read") cannot miss a row a slower
transaction commits late.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Column, MetaData, String, Table, column, insert, select, table
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from tillkey.platform.db import UtcDateTime

log = logging.getLogger(__name__)

TABLE = "revoked_api_keys"
REFRESH_SECONDS = 1.0

# The same table for code that has no MetaData of it (the shared handler and cache below): every
# service's migration creates it with define_revoked_api_keys_table's columns.
_revoked = table(TABLE, column("key_id"), column("merchant_id"), column("revoked_at"))


def define_revoked_api_keys_table(metadata: MetaData) -> Table:
    return Table(
        TABLE, metadata,
        Column("key_id", String(64), primary_key=True),   # credentials.api_key_id
        Column("merchant_id", String(64), nullable=False),
        Column("revoked_at", UtcDateTime(), nullable=False),
    )


def record_revocation(session, merchant_id: str, key_id: str, revoked_at: datetime) -> None:
    """Add the key to this service's denylist (a second revocation of it changes nothing)."""
    if session.execute(select(_revoked.c.key_id).where(_revoked.c.key_id == key_id)).first() is None:
        session.execute(insert(_revoked).values(key_id=key_id, merchant_id=merchant_id, revoked_at=revoked_at))


def deny_revoked_api_key(event, uow) -> None:
    """`merchant.api_key_revoked` → this service's denylist; declared in each service's handler table
    as InboxHandler("deny_revoked_api_key", deny_revoked_api_key)."""
    record_revocation(uow.session, event.data["merchant_id"], event.data["key_id"],
                      datetime.fromisoformat(event.occurred_at))


class RevokedKeys:
    """The key ids of this service's denylist, as last read (at most `refresh_seconds` ago).

    Read in the thread of the first request after the interval, once per process: a second thread
    arriving meanwhile uses the previous set rather than wait. A failed read (the database away)
    keeps the previous set and is tried again after the interval: the request it delays would fail
    on that database anyway.
    """

    def __init__(self, engine: Engine, refresh_seconds: float = REFRESH_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self._engine = engine
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._ids: frozenset[str] = frozenset()
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def is_revoked(self, key_id: str) -> bool:
        self._refresh_if_due()
        return key_id in self._ids

    def _due(self) -> bool:
        return self._read_at is None or self._clock() - self._read_at >= self._refresh_seconds

    def _refresh_if_due(self) -> None:
        if not self._due():
            return
        # The very first read is waited for: before it, the set is empty, not "as last read".
        if not self._lock.acquire(blocking=self._read_at is None):
            return
        try:
            if not self._due():
                return
            started = self._clock()
            try:
                self._ids = frozenset(_read_outside_any_transaction(self._engine))
            except (SQLAlchemyError, self._engine.dialect.loaded_dbapi.Error):  # the raw cursor's own errors
                log.warning("could not read the revoked API keys; keeping the %d known", len(self._ids),
                            exc_info=True)
            self._read_at = started
        finally:
            self._lock.release()


def _read_outside_any_transaction(engine: Engine) -> list[str]:
    """The denylist by a plain SELECT on a pooled DBAPI connection, not a SQLAlchemy transaction.

    The read runs inside requests, some of which already hold a transaction: an `Idempotency-Key`
    request runs in one (idempotency.py) and authenticates inside it. On SQLite every SQLAlchemy
    transaction takes this process's gate and the write lock at BEGIN (sqlite_gate.py, db.py), so a
    second one from the same thread waited for the first, its own: 30 s, the gate's timeout (the
    dashboard's "send test event" timed out whenever the refresh fell due during it). A plain
    SELECT takes neither: SQLite's connections here are in autocommit, and in WAL a reader waits for
    no writer. On PostgreSQL it is a short read transaction, rolled back when the connection goes
    back to the pool.
    """
    statement = str(select(_revoked.c.key_id).compile(dialect=engine.dialect))
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            cursor.execute(statement)
            return [row[0] for row in cursor.fetchall()]
        finally:
            cursor.close()
    finally:
        raw.close()
