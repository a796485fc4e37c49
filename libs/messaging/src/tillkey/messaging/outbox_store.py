"""Reading and settling outbox rows: the relay's view of the table."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session


def claim_batch(session: Session, outbox: Table, limit: int) -> list:
    """Rows due for publishing, oldest first, locked so that a second relay skips them.

    SKIP LOCKED where the database has it (PostgreSQL); SQLite has one writer anyway and
    SQLAlchemy renders no FOR UPDATE there.
    """
    now = datetime.now(timezone.utc)
    stmt = (select(outbox.c.seq, outbox.c.event_id, outbox.c.routing_key, outbox.c.body)
            .where(outbox.c.published_at.is_(None), outbox.c.available_at <= now)
            .order_by(outbox.c.seq).limit(limit).with_for_update(skip_locked=True))
    return list(session.execute(stmt))


def mark_published(session: Session, outbox: Table, seqs: list[int]) -> None:
    if seqs:
        session.execute(update(outbox).where(outbox.c.seq.in_(seqs))
                        .values(published_at=datetime.now(timezone.utc)))


def postpone(session: Session, outbox: Table, seqs: list[int], seconds: float) -> None:
    """Rows the broker refused or could not route: try again later, never drop them."""
    if seqs:
        session.execute(update(outbox).where(outbox.c.seq.in_(seqs)).values(
            available_at=datetime.now(timezone.utc) + timedelta(seconds=seconds),
            attempts=outbox.c.attempts + 1))


def unpublished_count(session: Session, outbox: Table) -> int:
    from sqlalchemy import func
    return session.execute(select(func.count()).select_from(outbox)
                           .where(outbox.c.published_at.is_(None))).scalar_one()
