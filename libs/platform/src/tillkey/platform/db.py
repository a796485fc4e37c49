"""Engines and sessions: SQLite file by default, PostgreSQL by URL."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from tillkey.platform.request_tx import connection_for
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

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn):
            # Take the write lock at BEGIN: two writers then queue on busy_timeout instead of
            # one failing with "database is locked" when it upgrades a read lock.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        # pysqlite's own transaction handling must be off for the BEGIN above to be ours.
        @event.listens_for(engine, "connect", insert=True)
        def _no_pysqlite_begin(dbapi_conn, _record):
            dbapi_conn.isolation_level = None

        count_sql(engine)
        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    count_sql(engine)
    return engine


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
