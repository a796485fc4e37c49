"""Engines and sessions: SQLite file by default, PostgreSQL by URL."""
from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from tillkey.platform.lean_sql import run_driver_sql
from tillkey.platform.request_tx import connection_for
from tillkey.platform.sqlite_gate import install_gate
from tillkey.platform.workstats import count_sql


def normalize_url(url: str) -> str:
    # Operators write postgresql://…; we ship the psycopg 3 driver.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # WAL: readers never block the writer; busy_timeout: writers queue instead of failing.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        def _begin_immediate(conn):
            # Take the write lock at BEGIN: two writers then queue instead of one failing with
            # "database is locked" when it upgrades a read lock. Threads of this process queue on
            # the gate, processes on busy_timeout.
            # On the driver's cursor: exec_driver_sql's execution context cost more than the BEGIN.
            run_driver_sql(conn, "BEGIN IMMEDIATE")

        install_gate(engine, _begin_immediate)

        # pysqlite's own transaction handling must be off for the BEGIN above to be ours.
        @event.listens_for(engine, "connect", insert=True)
        def _no_pysqlite_begin(dbapi_conn, _record):
            dbapi_conn.isolation_level = None

        count_sql(engine)
        return engine
    engine = create_engine(url, pool_size=5, max_overflow=10)
    _ping_when_idle(engine)
    count_sql(engine)
    return engine


IDLE_BEFORE_PING = 5.0  # seconds a pooled connection may rest before it is checked at checkout


def _ping_when_idle(engine: Engine) -> None:
    """pool_pre_ping, but only for connections that rested: a round trip before every transaction
    cost a busy API a sixth of its time, and a connection used a moment ago is alive. One that
    rested may have outlived a database restart: it is pinged, and a dead one is replaced
    (DisconnectionError makes the pool take another). A connection that dies while busy fails
    its statement, which invalidates the whole pool (SQLAlchemy's disconnect handling) and answers
    503 (tillkey.platform.db_errors)."""

    @event.listens_for(engine, "checkin")
    def _rested_from(_dbapi_conn, record):
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_rested(dbapi_conn, record, _proxy):
        since = record.info.get("checked_in_at")
        if since is None or time.monotonic() - since < IDLE_BEFORE_PING:
            return
        try:
            cursor = dbapi_conn.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_conn.rollback()
        except Exception as exc:  # noqa: BLE001 — any failure here means: not this connection
            raise DisconnectionError(f"pooled connection found dead: {exc!r}") from exc


class SessionFactory:
    """`sessionmaker` that joins the request's transaction when one is open on its engine.

    Joined sessions work on a savepoint: their commit releases it, the request commits the whole
    (see tillkey.platform.request_tx). Everywhere else (workers, requests without one) a session
    has its own connection and transaction as before.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self._maker = sessionmaker(engine, expire_on_commit=False)

    def __call__(self, **kw) -> Session:
        connection = connection_for(self.engine)
        if connection is not None:
            return self._maker(bind=connection, join_transaction_mode="create_savepoint", **kw)
        return self._maker(**kw)


def make_session_factory(engine: Engine) -> SessionFactory:
    return SessionFactory(engine)


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes in and out. SQLite keeps no zone and hands back naive values; domains
    compare with an aware clock, so every value is made aware on the way out. Migrations render it
    as `sa.DateTime(timezone=True)` (see alembic_env)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
