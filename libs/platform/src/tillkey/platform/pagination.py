"""Cursor pagination, newest first: `{"data": [...], "next_cursor": "…" | null}`."""
from __future__ import annotations

import base64
import json
from datetime import datetime

from marshmallow import Schema, fields, validate
from sqlalchemy import and_, or_
from sqlalchemy.sql import Select

from tillkey.platform.clock import as_utc
from tillkey.platform.inputs import is_unstorable
from tillkey.platform.problems import ApiError

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
MAX_CURSOR_LENGTH = 512


# What encode_cursor writes: base64url without padding.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]*$"


class PageQuery(Schema):
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT))
    # The document states the form; whether it is one this API handed out is known only when it is
    # used (`paginate`), like an id that names nothing. Empty means the first page.
    cursor = fields.String(load_default=None, validate=[
        validate.Length(max=MAX_CURSOR_LENGTH),
        validate.Regexp(CURSOR_PATTERN, error="Not a cursor this API returned.")],
        metadata={"description": "`next_cursor` of the previous page; empty or absent: the first page"})


class InvalidCursor(ApiError):
    def __init__(self):
        super().__init__(422, "The query has invalid parameters.", code="validation_error",
                         errors={"cursor": ["Not a cursor this API returned."]})


def encode_cursor(created_at: datetime, id: str) -> str:
    raw = json.dumps([as_utc(created_at).isoformat(), id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str] | None:
    """(created_at in UTC, id), or None for anything this API did not hand out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, id = json.loads(raw)
        created, id = as_utc(datetime.fromisoformat(created)), str(id)
    except (ValueError, TypeError, OverflowError, RecursionError):
        # OverflowError: a time that leaves the calendar in UTC; RecursionError: JSON nested past the parser.
        return None
    # An id with a NUL names no row, and PostgreSQL refuses it in a query (a 500 before).
    return None if is_unstorable(id) else (created, id)


def paginate(session, stmt: Select, created_col, id_col, limit: int, cursor: str | None) -> tuple[list, str | None]:
    """Rows of `stmt` newest first, after `cursor`; and the cursor of the next page, if any."""
    if cursor:
        decoded = decode_cursor(cursor)
        if decoded is None:
            raise InvalidCursor()
        created, id = decoded
        # SQLite stores naive UTC; compare like with like (decode_cursor made it UTC).
        if session.get_bind().dialect.name == "sqlite":
            created = created.replace(tzinfo=None)
        stmt = stmt.where(or_(created_col < created, and_(created_col == created, id_col < id)))
    rows = list(session.scalars(stmt.order_by(created_col.desc(), id_col.desc()).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(getattr(last, created_col.key), getattr(last, id_col.key))
