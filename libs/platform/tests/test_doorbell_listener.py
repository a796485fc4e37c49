"""The PostgreSQL doorbell listener: a NOTIFY from another connection rings it at once, and while
nothing rings its thread sleeps in the kernel (about one wake-up a second to notice stop(), not
psycopg's ten)."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from tillkey.platform.db import make_engine
from tillkey.platform.doorbell import Listener

pytestmark = pytest.mark.integration
CHANNEL = "tillkey_test_doorbell"


def wake_ups(thread: threading.Thread) -> int:
    with open(f"/proc/self/task/{thread.native_id}/status") as status:
        return sum(int(line.split()[1]) for line in status if "ctxt_switches:" in line)


def test_a_notify_rings_and_an_idle_listener_barely_wakes(postgres_url):
    engine = make_engine(postgres_url)
    rung = threading.Event()
    listener = Listener(engine, CHANNEL, rung.set).start()
    try:
        assert rung.wait(10), "the listener's first ring (rings missed while not listening)"
        rung.clear()
        time.sleep(0.5)  # connected and waiting
        before = wake_ups(listener._thread)  # noqa: SLF001 — the listener's own thread is what is measured
        time.sleep(3.0)
        assert wake_ups(listener._thread) - before <= 12  # noqa: SLF001 — psycopg's own wait: about 60
        assert not rung.is_set()

        with engine.begin() as conn:
            conn.execute(text("SELECT pg_notify(:c, '')"), {"c": CHANNEL})
        assert rung.wait(5), "a NOTIFY committed on another connection"
    finally:
        listener.stop()
        engine.dispose()


def test_a_process_that_listens_itself_rings_without_notify(postgres_url):
    """A worker's relay listens in the worker itself: its commits ring that listener directly, with
    no NOTIFY (PostgreSQL serialises the commits of transactions that notify). A process without a
    listener of its own (an API) still notifies, so the worker's relay hears it."""
    from sqlalchemy.orm import Session

    from tillkey.platform.doorbell import notify_in_transaction, ring_after_commit
    from tillkey.testing.statements import recorded_statements

    engine = make_engine(postgres_url)
    rung = threading.Event()
    try:
        with recorded_statements(engine) as statements, Session(engine) as session:
            notify_in_transaction(session, CHANNEL)
            session.commit()
        assert any("pg_notify" in s for s in statements), "no listener here: other processes need the NOTIFY"

        listener = Listener(engine, CHANNEL, rung.set).start()
        try:
            assert rung.wait(10)  # its first ring, on listening
            rung.clear()
            with recorded_statements(engine) as statements, Session(engine) as session:
                notify_in_transaction(session, CHANNEL)
                session.commit()
                ring_after_commit(engine, CHANNEL)
            assert not any("pg_notify" in s for s in statements), statements
            assert rung.wait(5), "the ring reached this process's listener"
        finally:
            listener.stop()
    finally:
        engine.dispose()
