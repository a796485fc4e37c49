"""Statements both our databases run in one round trip where the ORM would need several."""
from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, TextClause, bindparam, text


def insert_unless_present(session, table: Table, values: Mapping[str, Any], *,
                          conflict_on: str | None = None) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: True if the row is new, False if its key was there.

    One statement instead of SELECT, SAVEPOINT, INSERT and RELEASE. Two transactions inserting
    the same key at once: PostgreSQL makes the second wait for the first and then skips (False),
    or inserts if the first rolled back; SQLite writers run one at a time anyway. `conflict_on`
    names the one unique column whose conflict means "there already" (any unique key when None).
    """
    statement = _insert_unless_present(table, tuple(values), conflict_on)
    # RETURNING, not rowcount: psycopg's rowcount is -1 for this statement under SQLAlchemy.
    return session.execute(statement, dict(values)).first() is not None


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
