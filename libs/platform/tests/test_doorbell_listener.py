"""The PostgreSQL doorbell listener in a process that listens itself. That a NOTIFY from another
connection rings it, that it never wakes while idle and that stop() ends it at once:
test_doorbell_stop.py."""
from __future__ import annotations

import threading

import pytest

from tillkey.platform.db import make_engine
from tillkey.platform.doorbell import Listener

pytestmark = pytest.mark.integration
CHANNEL = "tillkey_test_doorbell"


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
