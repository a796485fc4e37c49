"""The relay sleeps long and still publishes within moments: a commit that wrote events rings it,
in the same process (a callback) and from another process (NOTIFY on PostgreSQL, a datagram on
SQLite). Its poll is 60 s here, so only the doorbell can explain a prompt publish."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tillkey.contracts import load_sample
from tillkey.messaging import OutboxRelay

pytestmark = pytest.mark.integration
WRITE_ELSEWHERE = """
import sys
from sqlalchemy import MetaData
from tillkey.contracts import load_sample
from tillkey.messaging import SqlAlchemyUnitOfWork, define_outbox
from tillkey.platform.db import make_engine, make_session_factory
outbox = define_outbox(MetaData())
with SqlAlchemyUnitOfWork(make_session_factory(make_engine(sys.argv[1])), outbox, "elsewhere") as uow:
    uow.emit("order.created", load_sample("order.created")["data"])
    uow.commit()
"""


def published_within(db, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if db.unpublished() == 0:
            return True
        time.sleep(0.02)
    return False


def test_a_commit_in_this_process_wakes_the_sleeping_relay(db, broker, loops, amqp_url, wait_until):
    broker.bind_counting_queue("wakeup-probe-local")
    relay = OutboxRelay(amqp_url, db.session_factory, db.outbox, "tests", poll_interval=60)
    loops.start(relay)
    time.sleep(1.0)  # the relay's first poll found nothing: it now sleeps for 60 s
    with db.uow() as uow:
        uow.emit("order.created", load_sample("order.created")["data"])
        uow.commit()
    assert published_within(db, 5), "the relay was not woken by the commit"
    wait_until(lambda: broker.depth("wakeup-probe-local") == 1, what="the event in the queue")


def test_a_commit_in_another_process_wakes_the_sleeping_relay(db, broker, loops, amqp_url, database_url):
    broker.bind_counting_queue("wakeup-probe-remote")
    relay = OutboxRelay(amqp_url, db.session_factory, db.outbox, "tests", poll_interval=60)
    loops.start(relay)
    time.sleep(1.0)
    subprocess.run([sys.executable, "-c", WRITE_ELSEWHERE, database_url], check=True, timeout=60)
    assert db.unpublished() <= 1
    assert published_within(db, 5), "the relay was not woken by the other process's commit"
