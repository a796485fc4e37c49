"""A `limits` storage in the service's own database, so every API process and replica shares the counts.

`limits` (whose limits and storage interface `rate_limits` uses) ships in-memory, Redis,
Memcached, MongoDB and etcd storages. In memory, each gunicorn worker and each replica would count
on its own (four workers: four times the limit); the others are servers this platform does not
run. Each service already has a database every replica shares, so the counters live there: one
row per (limit, client) window, one upsert per counted request (`INSERT … ON CONFLICT DO UPDATE …
RETURNING`, atomic on PostgreSQL and SQLite).
Fixed windows only: that is all the upsert needs, and all a limit against abuse needs.

Cost, and why counts are batched only far from any limit: one address making thousands of
requests (a launch behind one office NAT, or `make bench`) would otherwise write one hot row per
request, every request waiting for the one before. So a key whose shared count has passed
`EXACT_UP_TO` counts its hits in memory and adds them to the row at most every `FLUSH_EVERY`
seconds (with the first hit after that, in the request's thread and its statement). Below that count, every hit is
written at once: the small limits (checkouts per cart, payments per order) are exact across
processes; the large ones (per address) may let through what the other processes counted in
the last quarter second. The upsert does not wait for the disk (`synchronous_commit` off on
PostgreSQL): a counter lost to a crash costs nothing. On PostgreSQL each write is a statement on its
own, outside a transaction block: one round trip, not three.

One request, one statement: `hit` counts every limit of a request (its address, its order) in
one multi-row upsert, one transaction, instead of one per limit; `give_back` takes the hits of an
answer that must not count back in one UPDATE (docs/architecture.md §7.8). `incr`, `get` and the
rest are the `limits` Storage interface, kept for `limits`' own strategies and for tests.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from limits.storage import Storage
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, delete, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from tillkey.platform.lean_sql import LeanStatement

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


def _upsert(table: str, postgres: bool, rows: int):
    """`rows` counted hits in one statement, atomic (PostgreSQL and SQLite both speak `ON CONFLICT
    … RETURNING`, several rows too): a window that ended starts again at the row's amount, which
    each row carries as its `excluded.count`. RETURNING names the key: neither database promises
    the rows back in the order of VALUES.

    Written as text on purpose: SQLAlchemy cannot cache the compiled form of its dialects'
    `on_conflict_do_update` (the log says "no key"), so that construct was compiled anew on
    every counted request, a good part of the request's CPU. On PostgreSQL the RETURNING clause
    also turns `synchronous_commit` off for this transaction (`set_config(…, true)`, read when it
    commits): the same as a `SET LOCAL` before it, without a second round trip per counted hit."""
    ended = f"{table}.expires_at <= :now"
    values = ", ".join(f"(:key{i}, :amount{i}, :expires_at{i})" for i in range(rows))
    return text(f"INSERT INTO {table} (key, count, expires_at) VALUES {values} "
                f"ON CONFLICT (key) DO UPDATE SET "
                f"count = CASE WHEN {ended} THEN excluded.count ELSE {table}.count + excluded.count END, "
                f"expires_at = CASE WHEN {ended} THEN excluded.expires_at ELSE {table}.expires_at END "
                f"RETURNING key, count, expires_at{_no_wait(postgres)}")


def _give_back(table: str, postgres: bool, rows: int):
    """One hit less on each of `rows` windows, named by key and end: an answer that must not count
    (a 409 "not ready yet", a 5xx, a refusal by another limit). A window that ended meanwhile has
    nothing to give back to, and the next one (another process's hit may have started it) never
    held this hit."""
    windows = " OR ".join(f"(key = :key{i} AND expires_at = :expires_at{i})" for i in range(rows))
    return text(f"UPDATE {table} SET count = count - 1 WHERE {windows}"
                f"{' RETURNING ' + _no_wait(postgres)[2:] if postgres else ''}")


def _no_wait(postgres: bool) -> str:
    return ", set_config('synchronous_commit', 'off', true)" if postgres else ""


def _key(key: str) -> str:
    # Hashed: a key holds a client address, and a fixed width fits any index.
    return hashlib.sha256(key.encode()).hexdigest()


class SqlStorage(Storage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, *, engine: Engine, table: Table, **options):
        super().__init__(uri, **options)
        self.engine, self.table = engine, table
        self._postgres = engine.dialect.name == "postgresql"
        # Each write is one statement, atomic by itself: on PostgreSQL it runs outside a transaction
        # block, one round trip instead of BEGIN, the statement and COMMIT (psycopg sends BEGIN as a
        # command of its own). SQLite keeps its BEGIN IMMEDIATE: its writers queue on that.
        self._writer = engine.execution_options(isolation_level="AUTOCOMMIT") if self._postgres else None
        self._upserts: dict[int, LeanStatement] = {}   # by number of rows: built once each
        self._give_backs: dict[int, LeanStatement] = {}
        self._last_prune = float("-inf")
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        return self.hit([(key, expiry)], amount)[0][0]

    def hit(self, limits: Sequence[tuple[str, float]], amount: int = 1) -> list[tuple[int, float]]:
        """Count one hit on each (key, window length in seconds): the keys that are busy in
        memory, the others (and busy ones due for a write) in one statement. Each key's count
        and the unix time its window ends, in the order given."""
        now, mono = time.time(), time.monotonic()
        answers: list[tuple[int, float] | None] = []
        writes: list[tuple[str, float, int]] = []
        with self._lock:
            for key, expiry in limits:
                window = self._windows.get(key)
                if window is not None and window.expires_at > now and window.shared > EXACT_UP_TO \
                        and mono - window.written_at < FLUSH_EVERY:
                    window.pending += amount  # busy and far from small limits: counted here for now
                    answers.append((window.shared + window.pending, window.expires_at))
                    continue
                pending = window.pending if window is not None and window.expires_at > now else 0
                if window is not None:
                    window.pending, window.written_at = 0, mono
                writes.append((key, expiry, amount + pending))
                answers.append(None)
        if not writes:
            return answers  # type: ignore[return-value]  # every key answered from memory
        rows = self._write(writes, now)
        written = iter(rows)
        with self._lock:
            for i, (key, _expiry) in enumerate(limits):
                if answers[i] is not None:
                    continue
                count, expires_at = next(written)
                window = self._windows.setdefault(key, _Window(count, 0, expires_at, mono))
                window.shared, window.expires_at, window.written_at = count, expires_at, mono
                answers[i] = (count + window.pending, expires_at)
            if len(self._windows) > 10_000:  # ended windows of one-off keys (carts, orders)
                self._windows = {k: w for k, w in self._windows.items() if w.expires_at > now}
        self._prune_when_due(now)
        return answers  # type: ignore[return-value]  # every None filled above

    def give_back(self, windows: Sequence[tuple[str, float]]) -> None:
        """Take back one hit of `hit` on each (key, window end `hit` answered): in memory for a
        busy key (its hit may still be there), in one statement for the others."""
        params: dict[str, object] = {}
        with self._lock:
            for key, expires_at in windows:
                window = self._windows.get(key)
                if window is not None and window.expires_at == expires_at and window.shared > EXACT_UP_TO:
                    window.pending -= 1  # written with the key's next hits (the sum is what counts)
                else:
                    n = len(params) // 2
                    params[f"key{n}"], params[f"expires_at{n}"] = _key(key), expires_at
        if params:
            rows = len(params) // 2
            statement = self._give_backs.get(rows)
            if statement is None:
                statement = self._give_backs[rows] = LeanStatement(_give_back(self.table.name, self._postgres, rows))
            with self._one_statement() as conn:
                statement.execute(conn, params)

    def _write(self, writes: list[tuple[str, float, int]], now: float) -> list[tuple[int, float]]:
        """The writes' counts and window ends, in their order (one key once: rows of one upsert
        must not meet the same row twice)."""
        params: dict[str, object] = {"now": now}
        for i, (key, expiry, amount) in enumerate(writes):
            params[f"key{i}"], params[f"amount{i}"], params[f"expires_at{i}"] = _key(key), amount, now + expiry
        upsert = self._upserts.get(len(writes))
        if upsert is None:
            upsert = self._upserts[len(writes)] = LeanStatement(_upsert(self.table.name, self._postgres, len(writes)))
        with self._one_statement() as conn:
            by_key = {row[0]: (row[1], row[2]) for row in upsert.all(conn, params)}
        return [by_key[params[f"key{i}"]] for i in range(len(writes))]

    def _one_statement(self):
        """A connection for one write that commits by itself (the `with` block commits it)."""
        return self._writer.connect() if self._writer is not None else self.engine.begin()

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
