"""A row unless its key is there, and its child rows only with it, in one statement on PostgreSQL:
order.created's recipient and its lines. One statement and one round trip fewer than two, for
every order (docs/architecture.md 7.8). SQLite has no data-modifying WITH, and no round trips to
save: it keeps the two statements (tillkey.platform.sql.insert_unless_present, then the lines).

A statement is built once per number of children (an order holds a handful of lines), and run as a
LeanStatement (tillkey.platform.lean_sql): compiled once per database, then on the driver's cursor.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from tillkey.platform.lean_sql import LeanStatement
from tillkey.platform.sql import insert_unless_present

MOST_CHILDREN_TOGETHER = 16  # more lines than that (rare) take the two statements: one text per count is enough
_DIALECT = postgresql.dialect()
_quote = _DIALECT.identifier_preparer.quote


def insert_unless_present_with(conn: Connection, parent: Table, values: Mapping[str, Any], conflict_on: str,
                               child: Table, children: Sequence[Mapping[str, Any]]) -> bool:
    """INSERT `values` into `parent` unless a row with its `conflict_on` is there, and then only
    `children` into `child`: True if the parent row is new (its children went in with it), False
    and nothing written if it was there."""
    if conn.dialect.name != "postgresql" or not children or len(children) > MOST_CHILDREN_TOGETHER:
        if not insert_unless_present(conn, parent, values, conflict_on=conflict_on):
            return False
        _insert(child).execute_many(conn, children)
        return True
    params = {f"p_{key}": value for key, value in values.items()}
    for i, row in enumerate(children):
        params.update({f"c{i}_{key}": value for key, value in row.items()})
    statement = _statement(parent, tuple(values), conflict_on, child, tuple(children[0]), len(children))
    return statement.first(conn, params) is not None


@functools.cache
def _insert(table: Table) -> LeanStatement:
    return LeanStatement(table.insert())


@functools.lru_cache(maxsize=64)
def _statement(parent: Table, keys: tuple[str, ...], conflict_on: str, child: Table, child_keys: tuple[str, ...],
               count: int) -> LeanStatement:
    # The children's values are cast to their columns' types: in a VALUES list that is not the
    # INSERT's own, PostgreSQL would read an untyped parameter as text. `keys` are column keys, as
    # in a Core insert's values; the SQL names the columns.
    (key,) = parent.primary_key.columns
    names = ", ".join(_quote(parent.c[k].name) for k in keys)
    child_names = ", ".join(_quote(child.c[k].name) for k in child_keys)
    rows = ", ".join("(" + ", ".join(f"CAST(:c{i}_{k} AS {child.c[k].type.compile(dialect=_DIALECT)})"
                                     for k in child_keys) + ")" for i in range(count))
    sql = (f"WITH parent AS (INSERT INTO {_quote(parent.name)} ({names}) "
           f"VALUES ({', '.join(f':p_{k}' for k in keys)}) "
           f"ON CONFLICT ({_quote(parent.c[conflict_on].name)}) DO NOTHING RETURNING {_quote(key.name)}), "
           # A data-modifying WITH runs once whether or not the main query reads it.
           f"children AS (INSERT INTO {_quote(child.name)} ({child_names}) "
           f"SELECT * FROM (VALUES {rows}) AS given ({child_names}) WHERE EXISTS (SELECT 1 FROM parent)) "
           f"SELECT {_quote(key.name)} FROM parent")
    binds = [bindparam(f"p_{k}", type_=parent.c[k].type) for k in keys]
    binds += [bindparam(f"c{i}_{k}", type_=child.c[k].type) for i in range(count) for k in child_keys]
    return LeanStatement(text(sql).bindparams(*binds))
