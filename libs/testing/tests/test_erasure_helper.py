"""find_text finds a text in any kind of column of any table, on SQLite and PostgreSQL."""
import pytest
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
)

from tillkey.testing.erasure import assert_no_trace, find_text

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(database_url):
    engine = create_engine(database_url)
    md = MetaData()
    Table("people", md, Column("id", Integer, primary_key=True), Column("email", String(200)),
          Column("note", Text), Column("born", DateTime))
    Table("docs", md, Column("doc_id", String(20), primary_key=True), Column("body", JSON),
          Column("raw", LargeBinary))
    Table("log", md, Column("line", Text))  # no primary key: the row itself names the hit
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(md.tables["people"]), [{"id": 1, "email": "ADA@example.com", "note": None},
                                                   {"id": 2, "email": "bob@example.com", "note": "100%_sure"}])
        conn.execute(insert(md.tables["docs"]), [{"doc_id": "d1", "body": {"customer": {"name": "Zoë Ada"}},
                                                  "raw": b"mail from ada@example.com"}])
        conn.execute(insert(md.tables["log"]), [{"line": "sent to Ada@Example.com"},
                                                {"line": "event evt_09217ada69360db1 published"}])
    yield engine
    engine.dispose()


def test_finds_every_copy_whatever_the_column_type_and_case(engine):
    hits = {(t.table, t.column, t.key) for t in find_text(engine, "ada@example.com")}
    assert hits == {("people", "email", (1,)), ("docs", "raw", ("d1",)),
                    ("log", "line", ("sent to Ada@Example.com",))}
    (json_hit,) = find_text(engine, "zoë ada")
    assert (json_hit.table, json_hit.column) == ("docs", "body") and "Zoë Ada" in json_hit.excerpt


def test_like_wildcards_in_the_needle_are_plain_text(engine):
    assert [t.key for t in find_text(engine, "100%_sure")] == [(2,)]
    assert find_text(engine, "100%_x") == []


def test_a_short_name_is_a_whole_word_not_a_piece_of_an_id(engine):
    hits = {(t.table, t.column) for t in find_text(engine, "Ada")}
    assert ("log", "line") in hits  # "sent to Ada@Example.com"
    assert all("evt_" not in t.excerpt for t in find_text(engine, "Ada"))


def test_assert_no_trace_lists_what_is_left(engine):
    assert_no_trace(engine, "carol@example.com")
    with pytest.raises(AssertionError, match="people.email"):
        assert_no_trace(engine, "carol@example.com", "bob@example.com")
    with pytest.raises(ValueError):
        find_text(engine, "")
