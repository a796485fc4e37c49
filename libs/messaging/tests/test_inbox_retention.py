"""Inbox rows past INBOX_RETENTION are deleted, in batches; younger ones, the dedup of redeliveries, stay."""
from datetime import UTC, datetime, timedelta

import pytest

from tillkey.messaging import InboxDispatcher, InboxHandler, QueueTopology
from tillkey.messaging.dead_letters_erasure import dead_letter_care
from tillkey.messaging.inbox_retention import RETENTION_BEYOND_DEAD_LETTERS, InboxRetention, inbox_retention

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DAY = 86400.0


def _fill(db, ages_in_days):
    with db.engine.begin() as conn:
        conn.execute(db.inbox.insert(), [
            {"message_id": f"evt_{i}", "handler": "h", "processed_at": NOW - timedelta(days=age)}
            for i, age in enumerate(ages_in_days)])


def _kept(db):
    with db.engine.connect() as conn:
        return sorted(row.message_id for row in conn.execute(db.inbox.select()))


def test_rows_past_the_retention_go_in_batches_and_younger_ones_stay(db):
    _fill(db, [40, 39, 38, 37.5, 36.9, 1, 0])
    loop = InboxRetention("tests", lambda cause=None: db.uow(cause=cause), db.inbox, retention=37 * DAY,
                          batch=2, clock=lambda: NOW)
    assert loop.prune() == 4                  # 2 + 2, then an empty batch ends it
    assert _kept(db) == ["evt_4", "evt_5", "evt_6"]
    assert loop.prune() == 0


def test_a_redelivery_of_a_kept_row_is_still_absorbed(db):
    """The retention deletes only what no redelivery can reach: a young row keeps its dedup."""
    handled = []
    dispatcher = InboxDispatcher(lambda cause=None: db.uow(cause=cause), db.inbox,
                                 {"order.created": [InboxHandler("h", lambda env, uow: handled.append(env.id))]})
    from tillkey.testing.messaging import sample_envelope
    env = sample_envelope("order.created", new_id=True)
    dispatcher.handle_batch([env])
    InboxRetention("tests", lambda cause=None: db.uow(cause=cause), db.inbox, retention=DAY).prune()
    dispatcher.handle_batch([env])
    assert handled == [env.id]


def test_the_default_outlasts_dead_letters_by_a_week():
    assert inbox_retention(30 * DAY, 3600.0, None) == 30 * DAY + RETENTION_BEYOND_DEAD_LETTERS


def test_a_retention_a_dead_letter_replay_could_outlive_is_refused():
    assert inbox_retention(30 * DAY, 3600.0, 31 * DAY) == 31 * DAY
    with pytest.raises(ValueError, match="INBOX_RETENTION must be at least"):
        inbox_retention(30 * DAY, 3600.0, 30 * DAY)


def test_every_worker_gets_the_loop_and_a_short_setting_stops_it_starting(db, amqp_url):
    topology = QueueTopology("tests", ("order.created",))
    dispatcher = InboxDispatcher(lambda cause=None: db.uow(cause=cause), db.inbox, {"order.created": []})
    loops = dead_letter_care(amqp_url, topology, dispatcher, environ={"INBOX_RETENTION": "40d"})
    assert loops["inbox-retention"].retention == 40 * DAY
    with pytest.raises(ValueError, match="INBOX_RETENTION"):
        dead_letter_care(amqp_url, topology, dispatcher, environ={"INBOX_RETENTION": "1d"})
