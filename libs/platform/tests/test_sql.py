"""insert_unless_present: one statement that tells a new row from one already there, on both databases."""
from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import Column, MetaData, String, Table, select, text

from tillkey.platform.db import UtcDateTime, make_engine, make_session_factory
from tillkey.platform.sql import _insert_unless_present, insert_unless_present

metadata = MetaData()
seen = Table("seen", metadata, Column("scope", String(10), primary_key=True),
             Column("key", String(10), primary_key=True), Column("note", String(20), nullable=False))


def test_a_new_key_is_inserted_and_a_repeated_one_is_not(database_url):
    engine = make_engine(database_url)
    metadata.create_all(engine)
    sessions = make_session_factory(engine)
    with sessions() as s:
        assert insert_unless_present(s, seen, {"scope": "a", "key": "1", "note": "first"}) is True
        assert insert_unless_present(s, seen, {"scope": "a", "key": "1", "note": "second"}) is False
        assert insert_unless_present(s, seen, {"scope": "b", "key": "1", "note": "other scope"}) is True
        s.commit()
    with sessions() as s:
        assert s.execute(select(seen.c.scope, seen.c.note).order_by(seen.c.scope)).all() == [
            ("a", "first"), ("b", "other scope")]


def test_two_transactions_racing_for_one_key_insert_it_once(database_url):
    engine = make_engine(database_url)
    metadata.create_all(engine)
    sessions = make_session_factory(engine)
    first = sessions()
    assert insert_unless_present(first, seen, {"scope": "r", "key": "1", "note": "first"})
    answers = []

    def second():  # waits for the first transaction (PostgreSQL row lock, SQLite's write lock)
        with sessions() as s:
            answers.append(insert_unless_present(s, seen, {"scope": "r", "key": "1", "note": "second"}))
            s.commit()

    racer = threading.Thread(target=second)
    racer.start()
    racer.join(0.3)
    first.commit()
    first.close()
    racer.join(10)
    assert answers == [False]


stamped = Table("stamped", metadata, Column("id", String(10), primary_key=True),
                Column("cause", String(10), nullable=False, unique=True), Column("at", UtcDateTime(), nullable=False))


def test_a_conflict_on_the_named_column_is_there_already_and_values_are_stored_as_the_orm_stores_them(
        database_url):
    engine = make_engine(database_url)
    metadata.create_all(engine)
    sessions = make_session_factory(engine)
    at = datetime(2026, 11, 29, 8, 30, 1, 123456, tzinfo=UTC)
    with sessions() as s:
        assert insert_unless_present(s, stamped, {"id": "m1", "cause": "evt_1", "at": at}, conflict_on="cause")
        assert not insert_unless_present(s, stamped, {"id": "m2", "cause": "evt_1", "at": at}, conflict_on="cause")
        s.execute(stamped.insert().values(id="m3", cause="evt_3", at=at))  # the ORM's and Core's way
        s.commit()
    with sessions() as s:
        rows = s.execute(select(stamped.c.id, stamped.c.at).order_by(stamped.c.id)).all()
        assert rows == [("m1", at), ("m3", at)]
        raw = s.execute(text("SELECT at FROM stamped ORDER BY id")).scalars().all()
        assert raw[0] == raw[1]  # the same stored form, not just the same value read back


def test_the_statement_is_built_once_per_table_and_columns():
    """Built anew, SQLAlchemy would compile it on every call: its dialect constructs have no cache key."""
    one = _insert_unless_present(seen, ("scope", "key", "note"), None)
    assert _insert_unless_present(seen, ("scope", "key", "note"), None) is one
    assert one._generate_cache_key() is not None
