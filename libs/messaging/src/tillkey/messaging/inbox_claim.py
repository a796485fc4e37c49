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

from tillkey.platform.lean_sql import LeanStatement
from tillkey.platform.sql import rows_as_json

# (message id, handler name, the handler's older name)
Pair = tuple[str, str, str]


def claim(session: Session | Connection, inbox: Table, pairs: Sequence[Pair], now: datetime) -> set[tuple[str, str]]:
    """Record every pair not handled yet; returns those (message id, handler) it recorded."""
    if not pairs:
        return set()
    bind = session.get_bind() if isinstance(session, Session) else session
    if bind.dialect.name == "postgresql":  # the pairs as one JSON parameter: one text for any batch
        params: dict[str, object] = {"now": now, "pairs": rows_as_json([{"m": m, "h": h, "o": o} for m, h, o in pairs])}
        statement = _from_json(inbox)
    else:
        params = {"now": now}
        for i, (message_id, name, older) in enumerate(pairs):
            params[f"m{i}"], params[f"h{i}"], params[f"o{i}"] = message_id, name, older
        statement = _statement(inbox, len(pairs))
    return {(m, h) for m, h in statement.all(session, params)}


@functools.lru_cache(maxsize=512)
def _statement(inbox: Table, size: int) -> LeanStatement:
    """SQLite: built once per batch size, a statement's text depends on how many pairs it carries."""
    values = ", ".join(f"(:m{i}, :h{i}, :o{i})" for i in range(size))
    pairs = f"(SELECT column1 AS m, column2 AS h, column3 AS o FROM (VALUES {values})) AS v"
    return LeanStatement(_claiming(inbox, pairs))


@functools.lru_cache(maxsize=64)
def _from_json(inbox: Table) -> LeanStatement:
    """PostgreSQL: one text whatever the batch size, so psycopg converts it once and the server plans
    it once (a `VALUES` list of 3 parameters a pair is parsed anew by psycopg past 50 parameters,
    i.e. any batch over 16 messages; libs/platform `sql.insert_rows`)."""
    return LeanStatement(_claiming(inbox, "json_to_recordset(CAST(:pairs AS json)) AS v(m text, h text, o text)"))


def _claiming(inbox: Table, pairs: str) -> TextClause:
    name = inbox.name
    return text(
        f"INSERT INTO {name} (message_id, handler, processed_at) "
        f"SELECT v.m, v.h, :now FROM {pairs} "
        f"WHERE NOT EXISTS (SELECT 1 FROM {name} AS done "
        f"WHERE done.message_id = v.m AND done.handler = v.o) "
        f"ON CONFLICT (message_id, handler) DO NOTHING RETURNING message_id, handler"
    ).bindparams(bindparam("now", type_=inbox.c.processed_at.type))
