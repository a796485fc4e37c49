"""A new row and its child rows in one statement on PostgreSQL: checkout's order and its lines, a new
cart and its lines. One statement and one round trip fewer than an INSERT and an executemany, on
the hot path of every order (docs/architecture.md 7.8). SQLite has no data-modifying WITH, and no
round trips to save: it keeps the two statements.

Every value is bound with its column's type, as `insert(table)` binds it (a JSON None is stored as
JSON null either way), and the statement is built once per number of children.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import Table, TextClause, bindparam, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from tillkey.platform.rows import Values

_quote = postgresql.dialect().identifier_preparer.quote


def insert_with_children(conn: Connection, parent: Table, values: Values, child: Table,
                         children: Sequence[Values]) -> None:
    """Insert `values` into `parent` and `children` into `child`, in one statement on PostgreSQL."""
    if conn.dialect.name != "postgresql" or not children:
        conn.execute(_insert(parent), values)
        if children:
            conn.execute(_insert(child), list(children))
        return
    params = {f"p_{name}": value for name, value in values.items()}
    for i, row in enumerate(children):
        params.update({f"c{i}_{name}": value for name, value in row.items()})
    conn.execute(_statement(parent, child, len(children)), params)


@functools.cache
def _insert(table: Table):
    return table.insert()


@functools.lru_cache(maxsize=64)   # by number of children: a cart holds a handful of lines
def _statement(parent: Table, child: Table, count: int) -> TextClause:
    # The FOREIGN KEY of the children holds: PostgreSQL checks it at the end of the statement, when
    # the parent's row is in.
    def columns(table: Table) -> str:
        return ", ".join(_quote(c.name) for c in table.c)

    rows = ", ".join("(" + ", ".join(f":c{i}_{c.name}" for c in child.c) + ")" for i in range(count))
    sql = (f"WITH parent AS (INSERT INTO {_quote(parent.name)} ({columns(parent)}) "
           f"VALUES ({', '.join(f':p_{c.name}' for c in parent.c)})) "
           f"INSERT INTO {_quote(child.name)} ({columns(child)}) VALUES {rows}")
    binds = [bindparam(f"p_{c.name}", type_=c.type) for c in parent.c]
    binds += [bindparam(f"c{i}_{c.name}", type_=c.type) for i in range(count) for c in child.c]
    return text(sql).bindparams(*binds)
