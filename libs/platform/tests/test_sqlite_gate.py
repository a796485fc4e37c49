"""The SQLite gate (tillkey.platform.sqlite_gate): held from BEGIN to COMMIT or ROLLBACK, whichever
way a transaction ends, so a thread never waits on a gate nobody holds."""
from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tillkey.platform import sqlite_gate
from tillkey.platform.db import make_engine


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    yield engine
    engine.dispose()


def gate_of(engine) -> threading.Lock:
    gate = sqlite_gate.gate_of(engine)
    assert gate is not None
    return gate


def test_held_for_the_transaction_and_released_by_its_commit(engine):
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert gate_of(engine).locked()
    assert not gate_of(engine).locked()
    with engine.connect() as conn:  # committed for real: the driver's own commit found nothing to do
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1


def test_released_by_a_rollback_after_an_error(engine):
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
    assert not gate_of(engine).locked()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0


def test_released_when_a_connection_is_closed_mid_transaction(engine):
    conn = engine.connect()
    conn.execute(text("INSERT INTO t VALUES (1)"))
    assert gate_of(engine).locked()
    conn.close()
    assert not gate_of(engine).locked()


def test_released_by_an_orm_session_commit_and_rollback(engine):
    with Session(engine) as session:
        session.execute(text("INSERT INTO t VALUES (2)"))
        assert gate_of(engine).locked()
        session.commit()
        assert not gate_of(engine).locked()
        session.execute(text("INSERT INTO t VALUES (3)"))
        session.rollback()
        assert not gate_of(engine).locked()


def test_a_second_thread_waits_for_the_gate_not_for_sqlite(engine):
    """While one thread's transaction is open, another thread's BEGIN queues on the gate (its
    waiters are the gate's), and goes on as soon as the first commits."""
    order = []
    first_open, second_waiting = threading.Event(), threading.Event()

    def second():
        second_waiting.set()
        with engine.begin() as conn:
            order.append("second")
            conn.execute(text("INSERT INTO t VALUES (20)"))

    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (10)"))
        thread = threading.Thread(target=second)
        thread.start()
        second_waiting.wait(5)
        first_open.set()
        thread.join(0.3)
        assert thread.is_alive() and order == []  # still queued
        order.append("first commits")
    thread.join(5)
    assert order == ["first commits", "second"]


def test_a_gate_held_too_long_is_passed_with_a_warning(engine, monkeypatch, caplog):
    monkeypatch.setattr(sqlite_gate, "GATE_TIMEOUT", 0.1)
    gate_of(engine).acquire()  # as if a connection had leaked it
    try:
        with caplog.at_level(logging.WARNING, logger="tillkey.platform.sqlite_gate"):
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (1)"))
        assert "going on without it" in caplog.text
    finally:
        gate_of(engine).release()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1


def test_released_at_each_commit_and_rollback_of_a_connection_kept_open(engine):
    with engine.connect() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        conn.commit()
        assert not gate_of(engine).locked()
        conn.execute(text("INSERT INTO t VALUES (2)"))
        assert gate_of(engine).locked()
        conn.rollback()
        assert not gate_of(engine).locked()
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1
        assert gate_of(engine).locked()  # that read began a transaction of its own
