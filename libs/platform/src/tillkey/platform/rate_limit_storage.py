"""A `limits` storage in the service's own database, so every API process and replica shares the counts.

`limits` (behind Flask-Limiter) ships in-memory, Redis, Memcached, MongoDB and etcd storages. In
memory, each gunicorn worker and each replica would count on its own (four workers: four times the
limit); the others are servers this platform does not run. Each service already has a database
every replica shares, so the counters live there: one row per (limit, client) window, one upsert
per counted request (`INSERT … ON CONFLICT DO UPDATE … RETURNING`, atomic on PostgreSQL and SQLite).
Fixed windows only: that is all the upsert needs, and all a limit against abuse needs.
"""
from __future__ import annotations

import hashlib
import time

from limits.storage import Storage
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

SCHEME = "tillkey+sql"
PRUNE_EVERY_SECONDS = 300.0


def define_rate_limit_table(metadata: MetaData) -> Table:
    return Table(
        "rate_limits", metadata,
        Column("key", String(64), primary_key=True),   # sha256 of the limit's key (an address, an order id)
        Column("count", Integer, nullable=False),
        Column("expires_at", Float, nullable=False),   # unix time at which the window ends
    )


def _key(key: str) -> str:
    # Hashed: a key holds a client address, and a fixed width fits any index.
    return hashlib.sha256(key.encode()).hexdigest()


class SqlStorage(Storage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, *, engine: Engine, table: Table, **options):
        super().__init__(uri, **options)
        self.engine, self.table = engine, table
        self._insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
        self._last_prune = float("-inf")

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        t, now = self.table, time.time()
        fresh = t.c.expires_at <= now
        stmt = self._insert(t).values(key=_key(key), count=amount, expires_at=now + expiry)
        stmt = stmt.on_conflict_do_update(index_elements=[t.c.key], set_={
            "count": case((fresh, amount), else_=t.c.count + amount),
            "expires_at": case((fresh, now + expiry), else_=t.c.expires_at)}).returning(t.c.count)
        with self.engine.begin() as conn:
            count = conn.execute(stmt).scalar_one()
        self._prune_when_due(now)
        return count

    def get(self, key: str) -> int:
        row = self._row(key)
        return row.count if row is not None and row.expires_at > time.time() else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row.expires_at if row is not None and row.expires_at > time.time() else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.engine.begin() as conn:
            return conn.execute(delete(self.table)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(self.table).where(self.table.c.key == _key(key)))

    def _row(self, key: str):
        with self.engine.connect() as conn:
            return conn.execute(select(self.table).where(self.table.c.key == _key(key))).first()

    def _prune_when_due(self, now: float) -> None:
        # Ended windows are dead rows (and hold hashed addresses): swept on traffic, at most once
        # per PRUNE_EVERY_SECONDS per process, instead of a loop of their own.
        if time.monotonic() - self._last_prune >= PRUNE_EVERY_SECONDS:
            self._last_prune = time.monotonic()
            with self.engine.begin() as conn:
                conn.execute(delete(self.table).where(self.table.c.expires_at <= now))
