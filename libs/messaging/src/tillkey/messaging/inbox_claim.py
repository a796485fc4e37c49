"""Claiming inbox rows: one statement that records (message, handler) pairs not handled yet and
says which they were.

Why one statement: a consumer used to read the inbox (which pairs are done?) and then insert the
rest, two round trips per batch or per message; the read was about one statement in sixteen of a
whole order's (issue 11). `INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING` does both, on
PostgreSQL and on SQLite (3.35 and later):
- a pair already recorded conflicts and is not returned: a redelivery, or a message handled twice
  in one batch (the caller passes each pair once);
- a pair whose handler's older name is recorded (`InboxHandler.recorded_as`, the names of releases
  before declared names) is left out by the `NOT EXISTS`;
- a competing consumer inserting the same pair on PostgreSQL waits on its key until the first one
  commits, then finds the conflict (or inserts, if the first rolled back): never both.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Table, TextClause, bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

# (message id, handler name, the handler's older name)
Pair = tuple[str, str, str]


def claim(session: Session | Connection, inbox: Table, pairs: Sequence[Pair], now: datetime) -> set[tuple[str, str]]:
    """Record every pair not handled yet; returns those (message id, handler) it recorded."""
    if not pairs:
        return set()
    params: dict[str, object] = {"now": now}
    for i, (message_id, name, older) in enumerate(pairs):
        params[f"m{i}"], params[f"h{i}"], params[f"o{i}"] = message_id, name, older
    return {(m, h) for m, h in session.execute(_statement(inbox, len(pairs)), params)}


@functools.lru_cache(maxsize=512)
def _statement(inbox: Table, size: int) -> TextClause:
    """Built once per batch size: a statement's text depends on how many pairs it carries."""
    name = inbox.name
    values = ", ".join(f"(:m{i}, :h{i}, :o{i})" for i in range(size))
    return text(
        f"INSERT INTO {name} (message_id, handler, processed_at) "
        f"SELECT v.column1, v.column2, :now FROM (VALUES {values}) AS v "
        f"WHERE NOT EXISTS (SELECT 1 FROM {name} AS done "
        f"WHERE done.message_id = v.column1 AND done.handler = v.column3) "
        f"ON CONFLICT (message_id, handler) DO NOTHING RETURNING message_id, handler"
    ).bindparams(bindparam("now", type_=inbox.c.processed_at.type))
