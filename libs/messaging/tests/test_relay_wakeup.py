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
from tillkey.messaging.linger import Linger
from tillkey.testing.statements import recorded_statements

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


def claims_of(statements: list[str]) -> int:
    """A claim: SQLite's read, or PostgreSQL's read-and-mark (`outbox_store.claim_batch`)."""
    return sum(1 for s in statements if s.startswith(("SELECT outbox.seq", "WITH due AS MATERIALIZED")))


def test_a_batch_that_took_every_due_row_is_not_followed_by_an_empty_claim(db, broker, loops, amqp_url):
    """No commit rang while the batch was out, and it was not full: the relay goes back to sleep
    instead of claiming again to find nothing (a third of its claims before, issue 11)."""
    broker.bind_counting_queue("wakeup-probe-one-claim")
    relay = OutboxRelay(amqp_url, db.session_factory, db.outbox, "tests", poll_interval=60)
    loops.start(relay)
    time.sleep(1.0)  # the first poll found nothing: it sleeps
    with recorded_statements(db.engine) as statements:
        with db.uow() as uow:
            for _ in range(3):
                uow.emit("order.created", load_sample("order.created")["data"])
            uow.commit()
        assert published_within(db, 5)
        time.sleep(0.5)  # an empty claim would follow the batch within the linger's short wait
        assert claims_of(statements) == 1, statements
        # PostgreSQL's claim marked the rows too: settling the batch only commits.
        marks = [s for s in statements if s.startswith("UPDATE outbox")]
        assert len(marks) == (0 if db.engine.dialect.name == "postgresql" else 1), statements


def test_commits_that_ring_while_a_batch_is_out_are_published_at_once(db, broker, loops, amqp_url):
    """A ring that arrives while a batch awaits its confirms is remembered: the relay polls again
    after the batch instead of sleeping 60 s on rows it has not seen."""
    broker.bind_counting_queue("wakeup-probe-steady")
    relay = OutboxRelay(amqp_url, db.session_factory, db.outbox, "tests", poll_interval=60)
    loops.start(relay)
    time.sleep(1.0)
    for _ in range(60):  # commits land before, during and after each batch's flight
        with db.uow() as uow:
            uow.emit("order.created", load_sample("order.created")["data"])
            uow.commit()
        time.sleep(0.002)
    assert published_within(db, 5), f"{db.unpublished()} events waited for the 60 s poll"


def test_claims_that_keep_finding_rows_wait_the_busy_linger(db, broker, loops, amqp_url):
    """Rows that keep coming, claim after claim (here: full batches of 5 from 30 rows written
    before): the first `busy_after` claims follow each other after the short linger, the later ones
    wait the busy linger (0.5 s here), so that under a lasting flow each claim, transaction and round
    of confirms carries more rows."""
    linger = Linger(busy=0.5)
    broker.bind_counting_queue("wakeup-probe-flow")
    for _ in range(30):
        with db.uow() as uow:
            uow.emit("order.created", load_sample("order.created")["data"])
            uow.commit()
    claimed_at: list[float] = []

    def on_claim(_conn, _cursor, statement, *_):
        if "available_at <=" in statement:  # the relay's claim; nothing else reads that
            claimed_at.append(time.monotonic())

    from sqlalchemy import event
    event.listen(db.engine, "before_cursor_execute", on_claim)
    try:
        loops.start(OutboxRelay(amqp_url, db.session_factory, db.outbox, "tests", batch_size=5, poll_interval=60,
                                linger=linger))
        assert published_within(db, 10), f"{db.unpublished()} events left unpublished"
    finally:
        event.remove(db.engine, "before_cursor_execute", on_claim)
    gaps = [b - a for a, b in zip(claimed_at, claimed_at[1:], strict=False)]
    busy_after = linger.busy_after
    assert len(claimed_at) >= 6, claimed_at
    assert all(gap < 0.35 for gap in gaps[:busy_after - 1]), gaps
    assert all(gap >= 0.45 for gap in gaps[busy_after - 1:5]), gaps
