"""insert_unless_present: one statement that tells a new row from one already there, on both databases."""
from __future__ import annotations

import threading

from sqlalchemy import Column, MetaData, String, Table, select

from tillkey.platform.db import make_engine, make_session_factory
from tillkey.platform.sql import insert_unless_present

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
