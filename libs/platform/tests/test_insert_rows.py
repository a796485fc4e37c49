"""insert_rows: a batch in one statement on both databases, stored exactly as the ORM stores it."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError

from tillkey.platform.db import UtcDateTime, make_engine
from tillkey.platform.sql import _insert_from_json, insert_rows
from tillkey.testing.statements import recorded_statements

metadata = MetaData()
# "order" and "user" are reserved words: the statement quotes every name.
kinds = Table("kinds", metadata,
              Column("id", String(10), primary_key=True), Column("order", Integer, nullable=True),
              Column("user", Text, nullable=True), Column("flag", Boolean, nullable=False),
              Column("at", UtcDateTime(), nullable=True), Column("custom", JSON, nullable=False),
              Column("amount", Numeric(12, 2), nullable=True), Column("day", Date, nullable=True))

AT = datetime(2026, 11, 29, 8, 30, 1, 123456, tzinfo=UTC)


def _row(i: int, **changes):
    row = {"id": f"r{i}", "order": i, "user": f"ünïcode \"{i}\"\n\\", "flag": i % 2 == 0, "at": AT,
           "custom": {"b": [1, "two", None], "a": {"é": True}}, "amount": Decimal("12.30"), "day": date(2026, 1, 2)}
    return {**row, **changes}


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    metadata.create_all(engine)
    return engine


def test_rows_come_back_as_they_went_in_and_as_core_stores_them(engine):
    rows = [_row(1), _row(2, at=datetime(2026, 11, 29, 9, 30, 1, 123456, tzinfo=timezone(timedelta(hours=1))),
                       user=None, order=None, amount=None, day=None),
            _row(3, at=datetime(2026, 11, 29, 8, 0))]  # naive: UTC, as UtcDateTime takes it
    with engine.begin() as conn:
        insert_rows(conn, kinds, rows)
        conn.execute(kinds.insert(), [_row(4)])  # Core's own way, to compare the stored form
    with engine.connect() as conn:
        back = {r.id: r._asdict() for r in conn.execute(select(kinds))}
        raw = {r[0]: r[1:] for r in conn.execute(text('SELECT id, CAST(at AS TEXT), CAST(custom AS TEXT) FROM kinds'))}
    assert back["r1"] == _row(1)
    assert back["r2"]["at"] == AT and back["r2"]["user"] is None and back["r2"]["order"] is None
    assert back["r3"]["at"] == datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    assert raw["r1"] == raw["r4"]  # the same stored text of the datetime and of the JSON column


def test_the_statement_text_is_the_same_whatever_the_batch_size_on_postgresql(engine):
    with recorded_statements(engine) as seen, engine.begin() as conn:
        for size in (1, 3, 40):
            insert_rows(conn, kinds, [_row(size * 100 + i) for i in range(size)])
        insert_rows(conn, kinds, [])  # nothing to write: no statement
    with engine.connect() as conn:
        assert conn.execute(select(kinds.c.id)).scalars().all().__len__() == 44
    inserts = [s for s in seen if s.startswith("INSERT")]
    assert len(inserts) == 3
    if engine.dialect.name == "postgresql":
        assert len(set(inserts)) == 1 and "json_to_recordset" in inserts[0]


def test_a_failing_row_writes_none_of_the_batch(engine):
    with engine.begin() as conn:
        insert_rows(conn, kinds, [_row(1)])
    with pytest.raises(IntegrityError), engine.begin() as conn:
        insert_rows(conn, kinds, [_row(2), _row(1)])  # r1 is there already
    with engine.connect() as conn:
        assert conn.execute(select(kinds.c.id)).scalars().all() == ["r1"]


def test_columns_postgresql_would_read_back_differently_are_refused_before_anything_is_sent():
    naive = Table("naive", MetaData(), Column("id", String(5), primary_key=True), Column("at", DateTime()))
    floats = Table("floats", MetaData(), Column("id", String(5), primary_key=True), Column("x", Float))
    defaulted = Table("defaulted", MetaData(), Column("id", String(5), primary_key=True),
                      Column("n", Integer, default=5))
    with pytest.raises(TypeError, match="at"):
        _insert_from_json(naive, ("id", "at"))
    with pytest.raises(TypeError, match="x"):
        _insert_from_json(floats, ("id", "x"))
    with pytest.raises(ValueError, match="n"):
        _insert_from_json(defaulted, ("id",))
