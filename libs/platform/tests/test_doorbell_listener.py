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
