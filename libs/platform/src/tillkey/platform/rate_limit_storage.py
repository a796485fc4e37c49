"""A `limits` storage in the service's own database, so every API process and replica shares the counts.

`limits` (behind Flask-Limiter) ships in-memory, Redis, Memcached, MongoDB and etcd storages. In
memory, each gunicorn worker and each replica would count on its own (four workers: four times the
limit); the others are servers this platform does not run. Each service already has a database
every replica shares, so the counters live there: one row per (limit, client) window, one upsert
per counted request (`INSERT … ON CONFLICT DO UPDATE … RETURNING`, atomic on PostgreSQL and SQLite).
Fixed windows only: that is all the upsert needs, and all a limit against abuse needs.

Cost, and why counts are batched only far from any limit: one address making thousands of
requests (a launch behind one office NAT, or `make bench`) would otherwise write one hot row per
request, every request waiting for the one before. So a key whose shared count has passed
`EXACT_UP_TO` counts its hits in memory and adds them to the row at most every `FLUSH_EVERY`
seconds (the first hit after that, in the request's thread). Below that count, every hit is
written at once: the small limits (checkouts per cart, payments per order) are exact across
processes; the large ones (per address) may let through what the other processes counted in
the last quarter second. The upsert does not wait for the disk (`synchronous_commit` off on
PostgreSQL): a counter lost to a crash costs nothing.
"""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

from limits.storage import Storage
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, delete, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

SCHEME = "tillkey+sql"
PRUNE_EVERY_SECONDS = 300.0
EXACT_UP_TO = 100      # shared count up to which every hit is written at once
FLUSH_EVERY = 0.25     # seconds between writes of a busy key's hits


@dataclass
class _Window:
    shared: int          # the row's count when this process last wrote it
    pending: int         # hits counted here since
    expires_at: float
    written_at: float    # time.monotonic() of the last write


def define_rate_limit_table(metadata: MetaData) -> Table:
    return Table(
        "rate_limits", metadata,
        Column("key", String(64), primary_key=True),   # sha256 of the limit's key (an address, an order id)
        Column("count", Integer, nullable=False),
        Column("expires_at", Float, nullable=False),   # unix time at which the window ends
    )


def _upsert(table: str, postgres: bool):
    """One counted hit, atomic (PostgreSQL and SQLite both speak `ON CONFLICT … RETURNING`): a
    window that ended starts again at `amount`.

    Written as text on purpose: SQLAlchemy cannot cache the compiled form of its dialects'
    `on_conflict_do_update` (the log says "no key"), so that construct was compiled anew on
    every counted request, a good part of the request's CPU. On PostgreSQL the RETURNING clause
    also turns `synchronous_commit` off for this transaction (`set_config(…, true)`, read when it
    commits): the same as a `SET LOCAL` before it, without a second round trip per counted hit."""
    ended = f"{table}.expires_at <= :now"
    no_wait = ", set_config('synchronous_commit', 'off', true)" if postgres else ""
    return text(f"INSERT INTO {table} (key, count, expires_at) VALUES (:key, :amount, :expires_at) "
                f"ON CONFLICT (key) DO UPDATE SET "
                f"count = CASE WHEN {ended} THEN :amount ELSE {table}.count + :amount END, "
                f"expires_at = CASE WHEN {ended} THEN :expires_at ELSE {table}.expires_at END "
                f"RETURNING count, expires_at{no_wait}")


def _key(key: str) -> str:
    # Hashed: a key holds a client address, and a fixed width fits any index.
    return hashlib.sha256(key.encode()).hexdigest()


class SqlStorage(Storage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, *, engine: Engine, table: Table, **options):
        super().__init__(uri, **options)
        self.engine, self.table = engine, table
        self._upsert = _upsert(table.name, engine.dialect.name == "postgresql")
        self._last_prune = float("-inf")
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now, mono = time.time(), time.monotonic()
        with self._lock:
            window = self._windows.get(key)
            if window is not None and window.expires_at > now and window.shared > EXACT_UP_TO \
                    and mono - window.written_at < FLUSH_EVERY:
                window.pending += amount  # busy and far from small limits: counted here for now
                return window.shared + window.pending
            pending = window.pending if window is not None and window.expires_at > now else 0
            if window is not None:
                window.pending, window.written_at = 0, mono
        count, expires_at = self._write(key, expiry, amount + pending, now)
        with self._lock:
            window = self._windows.setdefault(key, _Window(count, 0, expires_at, mono))
            window.shared, window.expires_at, window.written_at = count, expires_at, mono
            total = count + window.pending
            if len(self._windows) > 10_000:  # ended windows of one-off keys (carts, orders)
                self._windows = {k: w for k, w in self._windows.items() if w.expires_at > now}
        self._prune_when_due(now)
        return total

    def _write(self, key: str, expiry: float, amount: int, now: float) -> tuple[int, float]:
        with self.engine.begin() as conn:
            count, expires_at, *_ = conn.execute(self._upsert, {
                "key": _key(key), "amount": amount, "now": now, "expires_at": now + expiry}).one()
        return count, expires_at

    def get(self, key: str) -> int:
        with self._lock:
            window = self._windows.get(key)
            pending = 0
            if window is not None and window.expires_at > time.time():
                pending = window.pending
                if window.shared > EXACT_UP_TO and time.monotonic() - window.written_at < FLUSH_EVERY:
                    return window.shared + pending  # busy and far from small limits: as incr counts it
        row = self._row(key)
        return (row.count if row is not None and row.expires_at > time.time() else 0) + pending

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
        with self._lock:
            self._windows.clear()
        with self.engine.begin() as conn:
            return conn.execute(delete(self.table)).rowcount

    def clear(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)
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
