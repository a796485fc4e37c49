"""A doorbell listener sleeps until a ring or stop() (issue 11): no wake-ups while idle, and its
thread leaves at once on stop(), on PostgreSQL (LISTEN) and on SQLite (a datagram socket)."""
from __future__ import annotations

import socket
import threading
import time

import pytest
from sqlalchemy import text

from tillkey.platform.db import make_engine
from tillkey.platform.doorbell import Listener, _socket_folder
from tillkey.testing.threads import wake_ups

CHANNEL = "tillkey_test_doorbell_stop"


def idle_then_stopped(listener: Listener, ring) -> None:
    """The listener's thread: asleep for 2.5 s, rung, then gone within 0.2 s of stop()."""
    thread = listener._thread  # noqa: SLF001 — the listener's own thread is what is measured
    assert thread is not None
    time.sleep(0.3)  # waiting now
    before = wake_ups(thread)
    time.sleep(2.5)
    assert wake_ups(thread) == before, "an idle listener woke up"
    ring()
    started = time.monotonic()
    listener.stop()
    thread.join(1.0)
    assert not thread.is_alive() and time.monotonic() - started < 0.2


@pytest.mark.integration
def test_a_postgres_listener_sleeps_until_rung_and_leaves_on_stop(postgres_url):
    engine = make_engine(postgres_url)
    rung = threading.Event()
    listener = Listener(engine, CHANNEL, rung.set).start()
    try:
        assert rung.wait(10), "the listener's first ring (rings missed while not listening)"
        rung.clear()

        def notify():
            with engine.begin() as conn:
                conn.execute(text("SELECT pg_notify(:c, '')"), {"c": CHANNEL})
            assert rung.wait(5), "a NOTIFY committed on another connection"

        idle_then_stopped(listener, notify)
    finally:
        listener.stop()
        engine.dispose()


def test_a_sqlite_listener_sleeps_until_rung_and_leaves_on_stop(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'doorbell.db'}")
    folder = _socket_folder(engine)
    assert folder is not None
    rung = threading.Event()
    listener = Listener(engine, CHANNEL, rung.set).start()
    try:
        deadline = time.monotonic() + 5
        while not list(folder.glob(f"{CHANNEL}-*.sock")) and time.monotonic() < deadline:
            time.sleep(0.02)
        (path,) = folder.glob(f"{CHANNEL}-*.sock")

        def datagram():  # what another process's commit sends (doorbell._ring)
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(b"!", str(path))
            assert rung.wait(5), "a datagram rings it"

        idle_then_stopped(listener, datagram)
        assert not path.exists(), "its socket is removed when it leaves"
    finally:
        listener.stop()
        engine.dispose()
