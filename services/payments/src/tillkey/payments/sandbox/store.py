"""The sandbox's SQLite file: tokens, charges, refunds, idempotency keys and the notification outbox.

Card numbers are never written here: a token row keeps brand, last4, expiry and the name of the
test card's behaviour only.
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, brand TEXT NOT NULL, last4 TEXT NOT NULL, exp_month INTEGER NOT NULL,
    exp_year INTEGER NOT NULL, behaviour TEXT NOT NULL, created_at REAL NOT NULL, used_at REAL);
CREATE TABLE IF NOT EXISTS charges (
    charge_id TEXT PRIMARY KEY, token TEXT NOT NULL, amount INTEGER NOT NULL, currency TEXT NOT NULL,
    reference TEXT NOT NULL, notification_url TEXT NOT NULL, metadata TEXT NOT NULL,
    brand TEXT NOT NULL, last4 TEXT NOT NULL, behaviour TEXT NOT NULL, status TEXT NOT NULL,
    failure_code TEXT, failure_message TEXT, created_at REAL NOT NULL, settle_at REAL NOT NULL,
    settled_at REAL);
CREATE INDEX IF NOT EXISTS charges_due ON charges (status, settle_at);
CREATE TABLE IF NOT EXISTS refunds (
    refund_id TEXT PRIMARY KEY, charge_id TEXT NOT NULL REFERENCES charges (charge_id),
    amount INTEGER NOT NULL, reference TEXT NOT NULL, notification_url TEXT NOT NULL,
    status TEXT NOT NULL, failure_code TEXT, failure_message TEXT, created_at REAL NOT NULL,
    settle_at REAL NOT NULL, settled_at REAL);
CREATE INDEX IF NOT EXISTS refunds_due ON refunds (status, settle_at);
CREATE INDEX IF NOT EXISTS refunds_charge ON refunds (charge_id);
CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
    failed_tries INTEGER NOT NULL DEFAULT 0, status_code INTEGER, response TEXT,
    created_at REAL NOT NULL, PRIMARY KEY (scope, key));
CREATE TABLE IF NOT EXISTS notifications (
    notification_id TEXT PRIMARY KEY, url TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL, created_at REAL NOT NULL,
    last_status INTEGER, last_error TEXT, delivered_at REAL);
CREATE INDEX IF NOT EXISTS notifications_due ON notifications (status, next_attempt_at);
"""


class Store:
    """One SQLite connection per thread, opened on first use and kept: the request threads and the
    notifier never share one, and no call pays for opening the file, reading its schema and
    setting pragmas again (the sandbox's top cost per call when each transaction opened its own).

    WAL (set once, in the file, by migrate) lets the notifier read due rows while a request thread
    writes. synchronous=NORMAL: in WAL mode a commit survives the process being killed; only a
    power cut could lose the last commits, which a test double's throwaway rows can afford.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()

    def migrate(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
        finally:
            conn.close()  # before the server forks its worker: a connection must not cross a fork

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=15, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def close(self) -> None:
        """Closes this thread's connection (the next transaction opens a new one)."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        conn.execute(begin)
        try:
            yield conn
            conn.execute("COMMIT")
        finally:
            # Whatever failed (the body, or COMMIT itself), the kept connection must not stay in a
            # transaction: the next BEGIN on it would fail. One that cannot even roll back is dropped.
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    self.close()

    def tx(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction. BEGIN IMMEDIATE takes the write lock up front, so two requests
        with the same idempotency key (or two refunds of one charge) run one after the other
        instead of both reading "not there yet"."""
        return self._transaction("BEGIN IMMEDIATE")

    def read(self) -> AbstractContextManager[sqlite3.Connection]:
        """One read transaction: a consistent snapshot, no write lock."""
        return self._transaction("BEGIN")
