"""Statements both our databases run in one round trip where the ORM would need several."""
from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    DateTime,
    Float,
    Insert,
    Integer,
    Numeric,
    String,
    Table,
    TextClause,
    TypeDecorator,
    bindparam,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from tillkey.platform.lean_sql import LeanStatement


def insert_unless_present(session, table: Table, values: Mapping[str, Any], *,
                          conflict_on: str | None = None) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: True if the row is new, False if its key was there.

    One statement instead of SELECT, SAVEPOINT, INSERT and RELEASE. Two transactions inserting
    the same key at once: PostgreSQL makes the second wait for the first and then skips (False),
    or inserts if the first rolled back; SQLite writers run one at a time anyway. `conflict_on`
    names the one unique column whose conflict means "there already" (any unique key when None).
    """
    statement = _lean_insert_unless_present(table, tuple(values), conflict_on)
    # RETURNING, not rowcount: psycopg's rowcount is -1 for this statement under SQLAlchemy.
    return statement.first(session, values) is not None


@functools.lru_cache(maxsize=256)
def _lean_insert_unless_present(table: Table, columns: tuple[str, ...], conflict_on: str | None) -> LeanStatement:
    return LeanStatement(_insert_unless_present(table, columns, conflict_on))


@functools.lru_cache(maxsize=256)
def _insert_unless_present(table: Table, columns: tuple[str, ...], conflict_on: str | None) -> TextClause:
    """Written as text, once per table and set of columns: SQLAlchemy cannot cache the compiled
    form of its dialects' `on_conflict_do_nothing` (it has no cache key), so that construct was
    compiled anew on every call — a fifth of the notifications worker's CPU. Both databases speak
    this SQL; the binds carry the columns' types, so values are stored exactly as the ORM stores them."""
    key = next(iter(table.primary_key.columns)).name
    target = f" ({conflict_on})" if conflict_on is not None else ""
    names = ", ".join(table.c[c].name for c in columns)  # `columns` are keys, as in a Core insert's values
    sql = (f"INSERT INTO {table.name} ({names}) VALUES ({', '.join(':' + c for c in columns)}) "
           f"ON CONFLICT{target} DO NOTHING RETURNING {key}")
    return text(sql).bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns))


def insert_rows(session: Session | Connection, table: Table, rows: Sequence[Mapping[str, Any]], *,
                notify: str | None = None) -> None:
    """INSERT a batch's rows in one statement (nothing for an empty list). Every row has the same keys.
    `notify` (PostgreSQL only, see `tillkey.platform.doorbell.notifies`): the same statement NOTIFYs
    that channel, delivered at the commit, where a `SELECT pg_notify` would be one more round trip.

    On PostgreSQL the rows travel as ONE JSON parameter (`json_to_recordset`), so the statement's
    text is the same whatever the batch size. A `VALUES (…), (…)` list has one parameter per value
    and a text per row count: psycopg parses such a query anew on every call (it caches a query's
    conversion only up to 50 parameters), the server plans it anew, SQLAlchemy renders it per call;
    measured on 8 columns, 1 row 77 → 71 µs of this process's CPU, 4 rows 160 → 89, 16 rows 695 →
    154 (docs/architecture.md §7.8). An array per column (`unnest`) was slower than both below 8
    rows: psycopg dumps lists in Python. SQLite keeps the multi-row VALUES: its driver has no such cost.
    """
    if not rows:
        return
    bind = session.get_bind() if isinstance(session, Session) else session
    columns = tuple(rows[0])
    if bind.dialect.name == "postgresql":
        params = {"rows": rows_as_json(rows)} if notify is None else {"rows": rows_as_json(rows), "channel": notify}
        _lean_from_json(table, columns, notify is not None).execute(session, params)
    else:
        if notify is not None:
            raise ValueError("NOTIFY is PostgreSQL's: ring SQLite's listeners after the commit (doorbell)")
        single = _lean_single_insert(table, columns) if len(rows) == 1 else None
        if single is not None:
            single.execute(session, rows[0])
        else:
            # RETURNING makes SQLAlchemy write one multi-row VALUES ("insertmanyvalues"); closed at
            # once, so no cursor stays open.
            session.execute(_insert_returning(table), list(rows)).close()


@functools.cache
def _insert_returning(table: Table) -> Insert:
    return table.insert().returning(*table.primary_key.columns)


@functools.lru_cache(maxsize=256)
def _lean_single_insert(table: Table, columns: tuple[str, ...]) -> LeanStatement | None:
    """SQLite, one row (an API's event, most batches at light load): the driver's cursor, unless a
    column left out takes a Python-side default, which only SQLAlchemy's execution computes."""
    if any(c.key not in columns and (c.default is not None or c.onupdate is not None) for c in table.c):
        return None
    return LeanStatement(table.insert())


@functools.lru_cache(maxsize=256)
def _lean_from_json(table: Table, columns: tuple[str, ...], notifying: bool = False) -> LeanStatement:
    return LeanStatement(_insert_from_json(table, columns, notifying))


def rows_as_json(rows: Sequence[Mapping[str, Any]]) -> str:
    """The rows as the JSON text `json_to_recordset` reads: datetimes as ISO 8601 with their offset
    (naive ones are UTC, as `UtcDateTime` takes them), decimals as text, JSON values nested — written
    as `json.dumps` writes them, so a `json` column holds the very text SQLAlchemy would have stored."""
    return _JSON_ROWS.encode(rows)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date | Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot go in a JSON row")


_JSON_ROWS = json.JSONEncoder(default=_json_default, allow_nan=False)


@functools.lru_cache(maxsize=256)
def _insert_from_json(table: Table, columns: tuple[str, ...], notifying: bool = False) -> TextClause:
    """Built once per table and set of columns. Only column types whose JSON form PostgreSQL reads
    back exactly are allowed (a naive `timestamp` would drop the offset; a float's NaN has no JSON):
    anything else is refused here, at the first call, not stored wrongly. Notifying, the rows are
    joined to a one-row subquery that calls `pg_notify` once (a FROM item without LATERAL runs once)."""
    missing = [c.name for c in table.c if c.key not in columns and c.default is not None]
    if missing:
        raise ValueError(f"insert_rows into {table.name}: no value for {missing}, whose default is Python's")
    dialect = postgresql.dialect()
    quote = dialect.identifier_preparer.quote
    definitions, names = [], []
    for key in columns:  # the JSON objects' keys are the rows' keys: the record's columns carry them
        column = table.c[key]
        if not _reads_back_exactly(column.type):
            raise TypeError(f"insert_rows into {table.name}: column {column.name} is {column.type!r}")
        definitions.append(f"{quote(key)} {column.type.compile(dialect=dialect)}")
        names.append(quote(column.name))
    return text(f"INSERT INTO {quote(table.name)} ({', '.join(names)}) "
                f"SELECT {', '.join(quote(key) for key in columns)} "
                f"FROM json_to_recordset(CAST(:rows AS json)) AS r({', '.join(definitions)})"
                + (" CROSS JOIN (SELECT pg_notify(:channel, '')) AS rung" if notifying else ""))


def _reads_back_exactly(type_: TypeEngine[Any]) -> bool:
    impl = type_.impl_instance if isinstance(type_, TypeDecorator) else type_
    if isinstance(impl, DateTime):
        return bool(impl.timezone)
    return isinstance(impl, String | Integer | Boolean | JSON | Numeric | Date) and not isinstance(impl, Float)
