"""LeanStatement: the same values, transactions, listeners and errors as session.execute, on both databases."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    bindparam,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine.interfaces import ExecuteStyle
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session, registry

from tillkey.platform.db import UtcDateTime, make_engine
from tillkey.platform.lean_sql import LeanStatement
from tillkey.testing.statements import counted, recorded_statements

metadata = MetaData()
things = Table("lean_things", metadata,
               Column("id", String(10), primary_key=True), Column("n", Integer, nullable=True),
               Column("flag", Boolean, nullable=False), Column("at", UtcDateTime(), nullable=True),
               Column("doc", JSON, nullable=True), Column("amount", Numeric(12, 2), nullable=True),
               Column("day", Date, nullable=True), Column("kind", String(10), nullable=False))
defaulted = Table("lean_defaulted", metadata, Column("id", String(10), primary_key=True),
                  Column("made", Integer, nullable=False, default=lambda: 7))

AT = datetime(2026, 11, 30, 1, 2, 3, 456789, tzinfo=UTC)
ROW = {"id": "a", "n": 1, "flag": True, "at": AT, "doc": {"k": [1, "é", None]}, "amount": Decimal("12.30"),
       "day": date(2026, 1, 2), "kind": "paid"}

BY_ID = LeanStatement(select(things).where(things.c.id == bindparam("id")))
PAID_SINCE = LeanStatement(select(things.c.id, things.c.at.label("when"))
                           .where(things.c.kind == "paid").where(things.c.at >= bindparam("since"))
                           .order_by(things.c.id))
INSERT = LeanStatement(insert(things))
SET_N = LeanStatement(update(things).where(things.c.id == bindparam("b_id")))


class Thing:
    pass


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(things.insert(), [ROW, {**ROW, "id": "b", "kind": "unpaid", "doc": None, "day": None}])
    return engine


def test_rows_are_what_session_execute_gives(engine):
    with Session(engine) as session:
        core = session.execute(select(things).where(things.c.id == "a")).one()
        lean = BY_ID.first(session, {"id": "a"})
    assert lean == tuple(core)
    assert lean.at == AT and lean.at.tzinfo is not None  # the TypeDecorator ran (SQLite gives naive)
    assert lean.doc == {"k": [1, "é", None]} and lean.amount == Decimal("12.30") and lean.flag is True
    assert lean._mapping == dict(core._mapping)


def test_values_the_statement_carries_and_labels(engine):
    with Session(engine) as session:
        rows = PAID_SINCE.all(session, {"since": AT - timedelta(seconds=1)})
        none = PAID_SINCE.all(session, {"since": AT + timedelta(seconds=1)})
    assert [(row.id, row.when) for row in rows] == [("a", AT)]  # "b" is not paid: the literal was bound
    assert none == []
    with Session(engine) as session, pytest.raises(StatementError):
        PAID_SINCE.all(session, {})  # a required parameter missing is refused, as execute refuses it


def test_insert_and_update_take_columns_from_the_parameters(engine):
    with Session(engine) as session:
        INSERT.execute(session, {**ROW, "id": "c"})
        assert SET_N.execute(session, {"b_id": "c", "n": 5}) == 1
        assert SET_N.execute(session, {"b_id": "c", "kind": "gone", "doc": {"x": 1}}) == 1  # another column set
        assert SET_N.execute(session, {"b_id": "nobody", "n": 5}) == 0
        session.commit()
    with engine.connect() as conn:
        row = conn.execute(select(things).where(things.c.id == "c")).one()
    assert (row.n, row.kind, row.doc, row.at) == (5, "gone", {"x": 1}, AT)


def test_it_runs_in_the_sessions_transaction_and_flushes_as_execute_does(engine):
    mapper = registry()
    mapper.map_imperatively(Thing, things)
    try:
        with Session(engine) as session:
            thing = Thing()
            for key, value in {**ROW, "id": "p"}.items():
                setattr(thing, key, value)
            session.add(thing)
            # A Core statement does not autoflush, through execute or here: the same answer.
            assert BY_ID.first(session, {"id": "p"}) is None
            assert session.execute(select(things.c.id).where(things.c.id == "p")).first() is None
            session.flush()
            assert BY_ID.first(session, {"id": "p"}) is not None
            INSERT.execute(session, {**ROW, "id": "q"})
            session.rollback()
        with Session(engine) as session:
            assert BY_ID.all(session, {"id": "p"}) == [] and BY_ID.all(session, {"id": "q"}) == []
    finally:
        mapper.dispose()


def test_listeners_see_each_statement_with_a_context_of_their_own(engine):
    seen = []

    def before(_conn, _cursor, statement, _params, context, _many):
        context.mark = statement

    def after(_conn, _cursor, statement, _params, context, _many):
        seen.append(context.mark == statement)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        with recorded_statements(engine) as statements, engine.connect() as conn:
            assert BY_ID.scalar(conn, {"id": "a"}) == "a"
            assert SET_N.execute(conn, {"b_id": "a", "n": 2}) == 1
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    assert [s.split()[0] for s in statements if s.split()[0] in ("SELECT", "UPDATE")] == ["SELECT", "UPDATE"]
    assert len(seen) >= 2 and all(seen)  # SQLite also runs its BEGIN IMMEDIATE


def test_on_a_connection_it_begins_as_execute_does_so_commit_commits(engine):
    with engine.connect() as conn:
        assert SET_N.execute(conn, {"b_id": "a", "n": 42}) == 1
        assert conn.in_transaction()
        conn.commit()
    with engine.connect() as conn:
        assert BY_ID.first(conn, {"id": "a"}).n == 42


def test_a_failing_statement_reaches_handle_error_with_the_listeners_context(engine):
    ended = []

    def before(_conn, _cursor, _statement, _params, context, _many):
        assert context.execute_style is ExecuteStyle.EXECUTE and context.executemany is False
        context.span = "open"

    def failed(exception_context):
        ended.append((getattr(exception_context.execution_context, "span", None),
                      type(exception_context.original_exception).__name__))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "handle_error", failed)
    try:
        with engine.connect() as conn, pytest.raises(IntegrityError):
            INSERT.execute(conn, ROW)  # "a" is there
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "handle_error", failed)
    assert ended and ended[0][0] == "open" and ended[0][1] in ("IntegrityError", "UniqueViolation")


def test_a_driver_error_is_sqlalchemys_and_the_connection_goes_on(engine):
    with engine.connect() as conn:
        with pytest.raises(IntegrityError):
            INSERT.execute(conn, ROW)  # "a" is there
        conn.rollback()
        assert BY_ID.scalars(conn, {"id": "b"}) == ["b"]


def test_text_statements_with_typed_columns(engine):
    statement = LeanStatement(text("SELECT id, at FROM lean_things WHERE id = :id")
                              .columns(id=String(), at=UtcDateTime()))
    with engine.connect() as conn:
        assert statement.first(conn, {"id": "a"}).at == AT


def test_what_it_cannot_do_as_execute_does_is_refused():
    engine = make_engine("sqlite://")
    metadata.create_all(engine)
    expanding = LeanStatement(select(things.c.id).where(things.c.id.in_(bindparam("ids", expanding=True))))
    with engine.connect() as conn:
        with pytest.raises(TypeError, match="Python-side default"):
            LeanStatement(insert(defaulted)).execute(conn, {"id": "x"})
        with pytest.raises(TypeError, match="expands"):
            expanding.all(conn, {"ids": ["a"]})
        LeanStatement(insert(defaulted)).execute(conn, {"id": "x", "made": 1})  # the value given: fine


def test_execute_many_of_no_rows_runs_nothing(engine):
    with recorded_statements(engine) as statements, Session(engine) as session:
        INSERT.execute_many(session, [])
        SET_N.execute_many(session, ())
        assert not session.in_transaction()  # not even begun
    assert statements == []


def test_execute_many_of_one_row_is_one_statement_on_the_cursor(engine):
    through_execute = []

    def executed(_conn, clauseelement, *_args):
        through_execute.append(clauseelement)

    event.listen(engine, "before_execute", executed)  # Connection.execute's event: the lean path skips it
    try:
        with recorded_statements(engine) as statements, engine.connect() as conn:
            INSERT.execute_many(conn, [{**ROW, "id": "c"}])
            conn.commit()
    finally:
        event.remove(engine, "before_execute", executed)
    assert INSERT.statement not in through_execute
    assert counted(statements) == {"INSERT lean_things": 1}
    with engine.connect() as conn:
        assert BY_ID.first(conn, {"id": "c"}).at == AT


def test_execute_many_of_several_rows_is_one_executemany_with_the_types_processing(engine):
    made = [{**ROW, "id": f"m{i}", "at": AT + timedelta(days=i), "doc": {"i": [i, "é"]}} for i in range(3)]
    with recorded_statements(engine) as statements, Session(engine) as session:
        INSERT.execute_many(session, made)
        # The SET clause is the rows' columns, b_id aside, as with one row.
        SET_N.execute_many(session, [{"b_id": "m0", "n": 10, "at": AT}, {"b_id": "m2", "n": 12, "at": AT}])
        session.commit()
    assert counted(statements) == {"INSERT lean_things": 1, "UPDATE lean_things": 1}
    with engine.connect() as conn:
        found = conn.execute(select(things.c.id, things.c.n, things.c.at, things.c.doc)
                             .where(things.c.id.like("m%")).order_by(things.c.id)).all()
    assert [tuple(row) for row in found] == [("m0", 10, AT, {"i": [0, "é"]}),
                                            ("m1", 1, AT + timedelta(days=1), {"i": [1, "é"]}),
                                            ("m2", 12, AT, {"i": [2, "é"]})]
    assert all(row.at.tzinfo is not None for row in found)  # UtcDateTime's processors ran both ways


def test_columns_are_read_once_then_rows_keep_their_shape(engine, monkeypatch):
    """After the first answer the row shape is known: later calls read no `cursor.description`
    (psycopg builds Column objects at each read), and their rows are the same as the first's."""
    if engine.dialect.name != "postgresql":
        pytest.skip("sqlite3's cursor is a C type: its description cannot be watched")
    statement = LeanStatement(select(things).where(things.c.id == bindparam("id")))
    with Session(engine) as session:
        first = statement.first(session, {"id": "a"})
        reads = []
        cursor_class = type(session.connection().connection.dbapi_connection.cursor())
        original = cursor_class.description
        monkeypatch.setattr(cursor_class, "description",
                            property(lambda cursor: reads.append(1) or original.__get__(cursor)))
        again = statement.first(session, {"id": "a"})
        others = statement.all(session, {"id": "b"})
    assert reads == []
    assert again == first and again.at == AT and again.doc == {"k": [1, "é", None]}
    assert [row.id for row in others] == ["b"] and others[0].doc is None


def test_on_postgresql_a_connection_keeps_one_cursor_and_replaces_a_closed_one(engine):
    """psycopg sets up each new cursor's adapters anew: a pooled connection's statements share one
    cursor. One that SQLAlchemy closed on an error, or one of a connection invalidated since, is
    never used again."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite makes a cursor per statement")
    cursors = []

    def before(_conn, cursor, *_):
        cursors.append(cursor)

    event.listen(engine, "before_cursor_execute", before)
    try:
        with engine.connect() as conn:
            BY_ID.first(conn, {"id": "a"})
            SET_N.execute(conn, {"b_id": "a", "n": 5})
            assert cursors[0] is cursors[1] and not cursors[0].closed
            with pytest.raises(IntegrityError):
                INSERT.execute(conn, ROW)  # "a" is there
            conn.rollback()
            assert cursors[2].closed  # SQLAlchemy closed it while handling the error
            assert BY_ID.first(conn, {"id": "a"}).n == 1 and cursors[3] is not cursors[2]
            conn.invalidate()
            conn.rollback()
            assert BY_ID.first(conn, {"id": "b"}).id == "b" and cursors[4] is not cursors[3]
            assert cursors[4].connection is conn.connection.dbapi_connection
    finally:
        event.remove(engine, "before_cursor_execute", before)
