"""Counting the SQL statements an operation runs, for the tests that pin a hot path's cost."""
from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Container, Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine

# The bench's classifier: a test and `make bench` then name the same statement the same way.
from tillkey.platform.workstats import statement_kind

__all__ = ["counted", "recorded_statements", "statement_kind"]


@contextmanager
def recorded_statements(engine: Engine) -> Iterator[list[str]]:
    """The text of each statement `engine` runs inside the block, in order, on one line each
    (whitespace collapsed: SQLAlchemy breaks lines before FROM, so `"FROM carts" in text` works).
    The list grows while the block runs, so it can be read before the block ends."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def counted(statements: Iterable[str], *, tables: Container[str] | None = None,
            excluding: Collection[str] = ()) -> Counter[str]:
    """How many of `statements` each "VERB table" is ("SELECT orders": 2, "INSERT outbox": 1).

    Only statements on a table count: not BEGIN, SAVEPOINT, RELEASE nor a bare `SELECT pg_notify(…)`.
    `tables` keeps only those tables (a service's own metadata, say); `excluding` leaves some out
    (the inbox and outbox, which are the messaging library's)."""
    counts: Counter[str] = Counter()
    for text in statements:
        kind = statement_kind(text)
        table = kind.partition(" ")[2]
        if table and table not in excluding and (tables is None or table in tables):
            counts[kind] += 1
    return counts
