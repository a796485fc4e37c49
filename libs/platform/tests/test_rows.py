"""tillkey.platform.rows: what a locked aggregate's write-back compares, and how rows become objects."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import JSON, Column, MetaData, String, Table

from tillkey.platform.rows import changed, column_names, from_row, kept, values_of

things = Table("things", MetaData(), Column("thing_id", String, primary_key=True), Column("status", String),
               Column("licenses", JSON), Column("parent_id", String))


@dataclass
class Thing:
    thing_id: str
    status: str
    licenses: list


def test_only_the_columns_that_changed_are_found_even_a_list_changed_in_place():
    names = column_names(things, without=("parent_id",))
    assert names == ("thing_id", "status", "licenses")
    thing = from_row(Thing, {"thing_id": "t1", "status": "pending", "licenses": ["A"], "parent_id": "p"}, names)
    before = kept(values_of(thing, names))
    assert changed(before, values_of(thing, names)) == {}
    thing.licenses.append("B")  # in place: the kept copy must not follow it
    thing.status = "delivered"
    assert changed(before, values_of(thing, names)) == {"status": "delivered", "licenses": ["A", "B"]}
