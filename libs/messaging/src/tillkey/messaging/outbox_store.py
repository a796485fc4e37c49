"""Reading and settling outbox rows: the relay's view of the table."""
from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, delete, func, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tillkey.platform.lean_sql import LeanStatement


def claim_batch(session: Connection | Session, outbox: Table, limit: int) -> list:
    """Rows due for publishing, oldest first, locked so that a second relay skips them.

    PostgreSQL: one statement locks them (SKIP LOCKED) and marks them published; the locks and the
    marks are held until the batch settles. Confirmed, the transaction commits and the marks stand;
    anything else (a confirm timeout, a lost connection, a crash) rolls the marks back with it, so
    the rows are due again exactly as before. `postpone` unmarks a refused row. A read, then a mark
    once confirmed, were two statements per batch (issue 11).

    SQLite has no row locks and its BEGIN IMMEDIATE took the one database-wide write lock; kept
    while confirms are awaited, it would stall every writer of the service (up to CONFIRM_TIMEOUT),
    so the read transaction ends here and the marks get a transaction of their own
    (`mark_published`). A second relay on the same file may then publish a row twice: the
    consumers' inbox absorbs that.
    """
    now = datetime.now(UTC)
    if marks_when_claiming(session):
        rows = _claim_and_mark(outbox, limit).all(session, {"b_now": now})
        return sorted(rows, key=lambda row: row[0])  # RETURNING keeps no order: publish oldest first
    rows = _due(outbox, limit).all(session, {"b_now": now})
    session.commit()
    return rows


def marks_when_claiming(session: Connection | Session) -> bool:
    """Whether `claim_batch` marked its rows published (PostgreSQL), so settling only commits."""
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    return dialect.name == "postgresql"


# The relay's statements of every poll, built once per outbox table: building one costs
# SQLAlchemy its cache key each time.
@functools.cache
def _due(outbox: Table, limit: int) -> LeanStatement:
    c = outbox.c
    return LeanStatement(select(c.seq, c.event_id, c.routing_key, c.body)
                         .where(c.published_at.is_(None), c.available_at <= bindparam("b_now"))
                         .order_by(c.seq).limit(limit).with_for_update(skip_locked=True))


@functools.cache
def _claim_and_mark(outbox: Table, limit: int) -> LeanStatement:
    """MATERIALIZED: the pick runs once. As a plain `IN (subquery)` PostgreSQL may run a LIMIT …
    SKIP LOCKED subquery again per row and lock more rows than it returns."""
    name = outbox.name
    return LeanStatement(text(
        f"WITH due AS MATERIALIZED (SELECT seq FROM {name} WHERE published_at IS NULL AND available_at <= :b_now "
        f"ORDER BY seq LIMIT {int(limit)} FOR UPDATE SKIP LOCKED) "
        f"UPDATE {name} SET published_at = :b_now FROM due WHERE {name}.seq = due.seq "
        f"RETURNING {name}.seq, {name}.event_id, {name}.routing_key, {name}.body"
    ).bindparams(bindparam("b_now", type_=outbox.c.published_at.type)))


@functools.cache
def _mark(outbox: Table) -> LeanStatement:
    """SQLite's marks (PostgreSQL marks when claiming): the batch's numbers as one JSON parameter,
    so one text for any batch size, where an expanding IN renders its SQL anew on every call."""
    return LeanStatement(text(
        f"UPDATE {outbox.name} SET published_at = :b_now WHERE seq IN (SELECT value FROM json_each(:b_seqs))"
    ).bindparams(bindparam("b_now", type_=outbox.c.published_at.type)))


def mark_published(session: Connection | Session, outbox: Table, seqs: list[int]) -> None:
    if seqs:
        _mark(outbox).execute(session, {"b_seqs": json.dumps(seqs), "b_now": datetime.now(UTC)})


def postpone(session: Connection | Session, outbox: Table, seqs: list[int], seconds: float) -> None:
    """Rows the broker refused or could not route: try again later, never drop them (unmarked, if
    the claim marked them)."""
    if seqs:
        session.execute(update(outbox).where(outbox.c.seq.in_(seqs)).values(
            published_at=None, available_at=datetime.now(UTC) + timedelta(seconds=seconds),
            attempts=outbox.c.attempts + 1))


def unpublished_count(session: Session, outbox: Table) -> int:
    return session.execute(select(func.count()).select_from(outbox)
                           .where(outbox.c.published_at.is_(None))).scalar_one()


def prune_published(session: Session, outbox: Table, older_than_seconds: float) -> int:
    """Forget events published more than `older_than_seconds` ago.

    A published row has done its job; kept forever it would be a second copy of every customer's
    personal data (order.created carries the customer), which the 90-day erasure must not miss.
    """
    cutoff = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
    # cast: a DELETE gives a CursorResult (it has rowcount); Session.execute is annotated as any Result.
    result = cast(CursorResult[Any], session.execute(delete(outbox).where(outbox.c.published_at.is_not(None),
                                                                          outbox.c.published_at < cutoff)))
    return result.rowcount or 0
