"""The store's kept connections: one per thread, the statements each call costs, and a failed
transaction that leaves its connection clean for the next one."""
from __future__ import annotations

import sqlite3
import threading

import pytest

from tillkey.payments.sandbox.gateway import Gateway
from tillkey.payments.sandbox.store import Store
from tillkey.payments.sandbox.validation import GatewayProblem

CHARGE = {"amount": 100, "currency": "EUR", "reference": "pay_1", "notification_url": "http://payments/n",
          "metadata": {}}


class CountingStore(Store):
    """Counts the connections opened and records every statement they run."""

    def __init__(self, path):
        super().__init__(path)
        self.opened = 0
        self.statements: list[str] = []

    def _connect(self) -> sqlite3.Connection:
        self.opened += 1
        conn = super()._connect()
        conn.set_trace_callback(lambda sql: self.statements.append(sql.split()[0].upper()))
        return conn


@pytest.fixture
def store(tmp_path) -> CountingStore:
    store = CountingStore(tmp_path / "s.db")
    store.migrate()
    store.opened, store.statements = 0, []
    return store


def test_one_connection_per_thread_for_every_transaction(store):
    gw = Gateway(store, 0.2)
    for i in range(20):
        token = gw.tokenize("4242424242424242", 12, 2030)["payment_token"]
        gw.charge(f"k{i}", {**CHARGE, "payment_token": token})
    assert store.opened == 1  # was 40: a connection (and its PRAGMA) per transaction

    other = threading.Thread(target=lambda: gw.tokenize("4242424242424242", 12, 2030))
    other.start()
    other.join()
    assert store.opened == 2  # threads never share a connection


def test_statements_per_tokenize_and_charge(store):
    gw = Gateway(store, 0.2)
    gw.tokenize("4242424242424242", 12, 2030)  # the thread's connection opens here, once
    store.statements.clear()
    token = gw.tokenize("4242424242424242", 12, 2030)["payment_token"]
    assert store.statements == ["BEGIN", "INSERT", "COMMIT"]  # was PRAGMA foreign_keys first, every time
    store.statements.clear()
    gw.charge("k1", {**CHARGE, "payment_token": token})
    assert store.statements == ["BEGIN", "SELECT", "INSERT", "SELECT", "UPDATE", "INSERT", "UPDATE", "COMMIT"]


def test_a_refused_call_rolls_back_and_the_kept_connection_works_on(store):
    gw = Gateway(store, 0.2)
    with pytest.raises(GatewayProblem) as refused:
        gw.charge("k1", {**CHARGE, "payment_token": "tok_nope"})
    assert refused.value.code == "token_invalid"
    token = gw.tokenize("4242424242424242", 12, 2030)["payment_token"]  # BEGIN on the same connection
    assert gw.charge("k1", {**CHARGE, "payment_token": token}).status == 202  # the key was not kept
    assert store.opened == 1
    with store.read() as db:
        assert db.execute("SELECT COUNT(*) FROM idempotency").fetchone()[0] == 1


def test_a_failed_commit_does_not_leave_the_connection_in_a_transaction(store):
    with pytest.raises(sqlite3.IntegrityError), store.tx() as db:
        db.execute("PRAGMA defer_foreign_keys=ON")  # the foreign key is checked at COMMIT
        db.execute("INSERT INTO refunds (refund_id, charge_id, amount, reference, notification_url, status,"
                   " created_at, settle_at) VALUES ('r', 'no such charge', 1, 'x', 'u', 'pending', 0, 0)")
    with store.tx() as db:  # would fail "cannot start a transaction within a transaction"
        assert db.execute("SELECT COUNT(*) FROM refunds").fetchone()[0] == 0
