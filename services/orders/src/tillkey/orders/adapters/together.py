"""A row and its child rows in one statement on PostgreSQL: checkout's new order and its lines, a new
cart and its lines, a delivery's change to an order and its line. One statement and one round trip
fewer than two, on the hot path of every order (docs/architecture.md 7.8). SQLite has no
data-modifying WITH, and no round trips to save: it keeps the two statements.

Every value is bound with its column's type, as `insert(table)` and `update(table)` bind it (a JSON
None is stored as JSON null either way), and a statement is built once per shape (how many
children; which columns changed), as a LeanStatement: run on the driver's cursor, per order.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import Table, bindparam, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from tillkey.platform.lean_sql import LeanStatement
from tillkey.platform.rows import Values

_quote = postgresql.dialect().identifier_preparer.quote


def insert_with_children(conn: Connection, parent: Table, values: Values, child: Table,
                         children: Sequence[Values]) -> None:
    """Insert `values` into `parent` and `children` into `child`, in one statement on PostgreSQL."""
    if not together_here(conn) or not children:
        _insert_one(parent).execute(conn, values)
        _insert_one(child).execute_many(conn, children)
        return
    params = {f"p_{name}": value for name, value in values.items()}
    for i, row in enumerate(children):
        params.update({f"c{i}_{name}": value for name, value in row.items()})
    _insert_statement(parent, child, len(children)).execute(conn, params)


@functools.cache
def _insert_one(table: Table) -> LeanStatement:
    return LeanStatement(table.insert())


@functools.lru_cache(maxsize=64)   # by number of children: a cart holds a handful of lines
def _insert_statement(parent: Table, child: Table, count: int) -> LeanStatement:
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
    return LeanStatement(text(sql).bindparams(*binds))


def update_with_children(conn: Connection, parent: Table, key: object, changes: Values, child: Table,
                         child_changes: Sequence[tuple[object, Values]]) -> None:
    """UPDATE the changed columns of a row (`changes`) and of some of its child rows (key, changes),
    each row by its one-column primary key, in one statement (PostgreSQL only: see `together_here`)."""
    signature = (tuple(changes), tuple(tuple(values) for _key, values in child_changes))
    params: dict[str, object] = {"p_key": key, **{f"p_{name}": value for name, value in changes.items()}}
    for i, (child_key, values) in enumerate(child_changes):
        params[f"c{i}_key"] = child_key
        params.update({f"c{i}_{name}": value for name, value in values.items()})
    _update_statement(parent, child, signature).execute(conn, params)


def together_here(conn: Connection) -> bool:
    """Whether this database takes a row and its children in one statement (a data-modifying WITH)."""
    return conn.dialect.name == "postgresql"


@functools.lru_cache(maxsize=256)   # by the columns that changed: a handful of transitions
def _update_statement(parent: Table, child: Table, signature: tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]
                      ) -> LeanStatement:
    parent_columns, child_columns = signature

    def update(table: Table, prefix: str, names: tuple[str, ...]) -> str:
        (key,) = table.primary_key.columns
        assigned = ", ".join(f"{_quote(name)} = :{prefix}_{name}" for name in names)
        return f"UPDATE {_quote(table.name)} SET {assigned} WHERE {_quote(key.name)} = :{prefix}_key"

    # The parent first (the statement is named after it), the last child as the main statement.
    parts = [update(parent, "p", parent_columns)] + [update(child, f"c{i}", names)
                                                      for i, names in enumerate(child_columns)]
    sql = "WITH " + ", ".join(f"u{i} AS ({part})" for i, part in enumerate(parts[:-1])) + " " + parts[-1]
    (parent_key,) = parent.primary_key.columns
    (child_key,) = child.primary_key.columns
    binds = [bindparam("p_key", type_=parent_key.type)]
    binds += [bindparam(f"p_{name}", type_=parent.c[name].type) for name in parent_columns]
    for i, names in enumerate(child_columns):
        binds.append(bindparam(f"c{i}_key", type_=child_key.type))
        binds += [bindparam(f"c{i}_{name}", type_=child.c[name].type) for name in names]
    return LeanStatement(text(sql).bindparams(*binds))
