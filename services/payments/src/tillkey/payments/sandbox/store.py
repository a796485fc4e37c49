"""The sandbox's SQLite file: tokens, charges, refunds, idempotency keys and the notification outbox.

Card numbers are never written here: a token row keeps brand, last4, expiry and the name of the
test card's behaviour only.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
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
    """A short-lived connection per transaction: the HTTP threads and the worker never share one."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def migrate(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            # WAL lets the worker read due rows while a request thread writes.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=15, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. BEGIN IMMEDIATE takes the write lock up front, so two requests
        with the same idempotency key (or two refunds of one charge) run one after the other
        instead of both reading "not there yet"."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            conn.execute("BEGIN")
            yield conn
            conn.execute("COMMIT")
        finally:
            conn.close()
