"""The inbox claim: one statement per batch (or per message and handler) that records what was not
handled yet, on SQLite and PostgreSQL; a pair recorded before, or under a handler's older name,
has no second effect."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from tillkey.contracts import make_event
from tillkey.messaging import InboxDispatcher, InboxHandler
from tillkey.messaging.handling import derived_name
from tillkey.testing.statements import counted, recorded_statements

pytestmark = pytest.mark.integration


def effect(db):
    def record_effect(envelope, uow):
        db.record_effect(envelope, uow)
    return record_effect


def envelopes(order_envelope, n: int):
    return [make_event("order.created", order_envelope()["data"], "tests") for _ in range(n)]


def test_a_batch_claims_its_inbox_rows_in_one_statement(db, order_envelope):
    dispatcher = db.dispatcher()
    batch = envelopes(order_envelope, 5)
    with recorded_statements(db.engine) as statements:
        dispatcher.handle_batch(batch)
    assert counted(statements, tables={"inbox"}) == {"INSERT inbox": 1}
    assert db.count(db.inbox) == 5 and db.count(db.effects) == 5


def test_the_claim_has_one_text_for_any_batch_size_on_postgresql(db, order_envelope):
    """psycopg converts, and the server plans, a query text once: not once per batch size."""
    dispatcher = db.dispatcher()
    with recorded_statements(db.engine) as statements:
        for size in (1, 5, 30):
            dispatcher.handle_batch(envelopes(order_envelope, size))
    claims = {s for s in statements if s.startswith("INSERT INTO inbox")}
    assert len(claims) == (1 if db.engine.dialect.name == "postgresql" else 3)
    assert db.count(db.inbox) == 36 and db.count(db.effects) == 36


def test_one_message_claims_its_inbox_row_in_one_statement(db, order_envelope):
    dispatcher = db.dispatcher()
    (env,) = envelopes(order_envelope, 1)
    with recorded_statements(db.engine) as statements:
        dispatcher(env)
    assert counted(statements, tables={"inbox"}) == {"INSERT inbox": 1}
    assert db.effects_for(env.id) == 1


def test_a_redelivered_batch_and_a_message_twice_in_one_batch_have_one_effect(db, order_envelope):
    dispatcher = db.dispatcher()
    first, second, third = envelopes(order_envelope, 3)
    dispatcher.handle_batch([first, second])
    dispatcher.handle_batch([first, second, third, third])  # a redelivery, and a duplicate inside one
    dispatcher(second)
    assert [db.effects_for(e.id) for e in (first, second, third)] == [1, 1, 1]
    assert db.count(db.inbox) == 3


def test_a_message_recorded_under_the_handlers_older_name_is_not_handled_again(db, order_envelope):
    handle = effect(db)
    dispatcher = InboxDispatcher(lambda cause=None: db.uow(cause=cause), db.inbox,
                                 {"order.created": [InboxHandler("record_effect", handle)]})
    old, new_one, new_many = envelopes(order_envelope, 3)
    older = derived_name(handle)  # what a release before declared names recorded
    with db.engine.begin() as conn:
        conn.execute(insert(db.inbox), [{"message_id": e.id, "handler": older, "processed_at": datetime.now(UTC)}
                                        for e in (old, new_many)])
    dispatcher(old)
    dispatcher(new_one)
    dispatcher.handle_batch([old, new_many])
    assert [db.effects_for(e.id) for e in (old, new_one, new_many)] == [0, 1, 0]
