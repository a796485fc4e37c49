"""The unit of work's outbox writes: a transaction's events go in at its commit, in one INSERT, in
the order emitted; a rollback writes none; on PostgreSQL the INSERT carries the relay's NOTIFY."""
from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import select

from tillkey.contracts import load_sample
from tillkey.messaging.uow import OUTBOX_CHANNEL
from tillkey.testing.statements import counted, recorded_statements

pytestmark = pytest.mark.integration


def emit_three(uow) -> list[str]:
    data = load_sample("order.created")["data"]
    return [uow.emit("order.created", data).id for _ in range(3)]


def test_a_transactions_events_go_in_one_insert_in_the_order_emitted(db):
    with recorded_statements(db.engine) as statements, db.uow() as uow:
        ids = emit_three(uow)
        assert counted(statements, tables={"outbox"}) == {}  # nothing written before the commit
        uow.commit()
    assert counted(statements, tables={"outbox"}) == {"INSERT outbox": 1}
    with db.engine.connect() as conn:
        assert conn.execute(select(db.outbox.c.event_id).order_by(db.outbox.c.seq)).scalars().all() == ids


def test_a_rolled_back_transaction_writes_no_event_and_the_next_commit_only_its_own(db):
    with db.uow() as uow:
        emit_three(uow)
        uow.rollback()
        (kept,) = [uow.emit("order.created", load_sample("order.created")["data"]).id]
        uow.commit()
    with db.uow() as uow:
        emit_three(uow)  # left without a commit: rolled back on exit
    with db.engine.connect() as conn:
        assert conn.execute(select(db.outbox.c.event_id)).scalars().all() == [kept]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_on_postgresql_the_insert_carries_the_notify_to_another_processs_relay(db):
    """No listener in this process (an API): the commit must NOTIFY the worker's relay. It rides on
    the outbox INSERT, not a `SELECT pg_notify` of its own, and comes only with a commit."""
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as relay_side:
        relay_side.execute(f"LISTEN {OUTBOX_CHANNEL}")
        with db.uow() as uow:
            emit_three(uow)  # rolled back: no ring
        assert list(relay_side.notifies(timeout=0.5, stop_after=1)) == []
        with recorded_statements(db.engine) as statements, db.uow() as uow:
            emit_three(uow)
            uow.commit()
        assert [n.channel for n in relay_side.notifies(timeout=5, stop_after=1)] == [OUTBOX_CHANNEL]
    assert len(statements) == 1 and "pg_notify" in statements[0], statements
    assert counted(statements) == {"INSERT outbox": 1}
