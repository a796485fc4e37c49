"""Statements both our databases run in one round trip where the ORM would need several."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_unless_present(session, table: Table, values: Mapping[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: True if the row is new, False if its key was there.

    One statement instead of SELECT, SAVEPOINT, INSERT and RELEASE. Two transactions inserting
    the same key at once: PostgreSQL makes the second wait for the first and then skips (False),
    or inserts if the first rolled back; SQLite writers run one at a time anyway.
    """
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    # RETURNING, not rowcount: psycopg's rowcount is -1 for this statement under SQLAlchemy.
    key = next(iter(table.primary_key.columns))
    inserted = session.execute(dialect.insert(table).values(**values).on_conflict_do_nothing().returning(key))
    return inserted.first() is not None
