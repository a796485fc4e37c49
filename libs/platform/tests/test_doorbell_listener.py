"""The PostgreSQL doorbell listener: a NOTIFY from another connection rings it at once, and while
nothing rings its thread sleeps in the kernel (not psycopg's ten wake-ups a second; stop() wakes
it: test_doorbell_stop.py)."""
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
    listener of its own (an API) still notifies, so the worker's relay hears it (the unit of work's
    outbox INSERT carries that NOTIFY: libs/messaging tests/test_uow_outbox.py)."""
    from sqlalchemy.orm import Session

    from tillkey.platform.doorbell import notifies, ring_after_commit

    engine = make_engine(postgres_url)
    rung = threading.Event()
    try:
        with Session(engine) as session:
            assert notifies(session, CHANNEL), "no listener here: other processes need the NOTIFY"
        listener = Listener(engine, CHANNEL, rung.set).start()
        try:
            assert rung.wait(10)  # its first ring, on listening
            rung.clear()
            with Session(engine) as session:
                assert not notifies(session, CHANNEL)
                assert notifies(session, "another_channel"), "only the channel listened to here"
                session.commit()
                ring_after_commit(engine, CHANNEL)
            assert rung.wait(5), "the ring reached this process's listener"
        finally:
            listener.stop()
        with Session(engine) as session:
            assert notifies(session, CHANNEL), "the listener stopped: NOTIFY again"
    finally:
        engine.dispose()
