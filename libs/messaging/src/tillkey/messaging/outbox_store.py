"""Reading and settling outbox rows: the relay's view of the table."""
from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Select, Table, Update, bindparam, delete, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session


def claim_batch(session: Connection | Session, outbox: Table, limit: int) -> list:
    """Rows due for publishing, oldest first, locked so that a second relay skips them.

    SKIP LOCKED where the database has it (PostgreSQL): the locks are held until the batch is
    marked. SQLite has no row locks (SQLAlchemy renders no FOR UPDATE) and its BEGIN IMMEDIATE took
    the one database-wide write lock; kept while confirms are awaited, it would stall every writer
    of the service (up to CONFIRM_TIMEOUT), so the read transaction ends here and the marks get a
    transaction of their own. A second relay on the same file may then publish a row twice: the
    consumers' inbox absorbs that.
    """
    rows = list(session.execute(_due(outbox, limit), {"b_now": datetime.now(UTC)}))
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    if dialect.name == "sqlite":
        session.commit()
    return rows


# The relay's two statements of every poll, built once per outbox table: building one costs
# SQLAlchemy its cache key each time.
@functools.cache
def _due(outbox: Table, limit: int) -> Select:
    c = outbox.c
    return (select(c.seq, c.event_id, c.routing_key, c.body)
            .where(c.published_at.is_(None), c.available_at <= bindparam("b_now"))
            .order_by(c.seq).limit(limit).with_for_update(skip_locked=True))


@functools.cache
def _mark(outbox: Table) -> Update:
    return update(outbox).where(outbox.c.seq.in_(bindparam("b_seqs", expanding=True)))


def mark_published(session: Connection | Session, outbox: Table, seqs: list[int]) -> None:
    if seqs:
        session.execute(_mark(outbox), {"b_seqs": seqs, "published_at": datetime.now(UTC)})


def postpone(session: Connection | Session, outbox: Table, seqs: list[int], seconds: float) -> None:
    """Rows the broker refused or could not route: try again later, never drop them."""
    if seqs:
        session.execute(update(outbox).where(outbox.c.seq.in_(seqs)).values(
            available_at=datetime.now(UTC) + timedelta(seconds=seconds),
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
