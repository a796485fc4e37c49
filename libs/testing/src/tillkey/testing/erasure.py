"""Proving an erasure: look for a text (a customer's email, a name) in every column of a database.

The scan reflects the schema from the database itself, not a service's metadata, so it also sees
tables nobody thought of (outbox, inbox, idempotency replays, logs) — exactly where a forgotten
copy hides. Every column is read (by value, not by declared type: a reflected type can be
unknown) and text, JSON and binary values are compared case-insensitively (an email may have been
lower-cased on the way); numbers, dates and booleans cannot hold a name and are skipped.
Values are searched as stored: a copy kept encoded (a base64 MIME body, say) is not seen, so a
service that stores such text must decode it in its own test.
"""
from __future__ import annotations

import json
import re
import uuid
import warnings
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from sqlalchemy import MetaData, select
from sqlalchemy.engine import Engine

BATCH = 500


@dataclass(frozen=True)
class Trace:
    table: str
    column: str
    key: tuple      # the row's primary key (or the whole row if it has none)
    excerpt: str    # some text around the hit, to see which copy it is

    def __str__(self) -> str:
        return f"{self.table}.{self.column} {self.key}: …{self.excerpt}…"


def _as_text(value) -> str | None:
    if value is None or isinstance(value, (bool, int, float, Decimal, date, time, timedelta, uuid.UUID)):
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, str):
        return value
    # JSON columns come back parsed; ensure_ascii=False so "Zoë" is found as written.
    return json.dumps(value, ensure_ascii=False, default=str)


def find_text(engine: Engine, needle: str) -> list[Trace]:
    """Every (table, column, row) of the database whose value contains `needle` (case-insensitive)."""
    if not needle:
        raise ValueError("an empty needle is found everywhere; give the text to look for")
    # Whole words only: a short name ("Ada") must not be "found" inside a random id ("evt_…7ada6…").
    wanted = re.compile(r"(?<![0-9a-z])" + re.escape(needle.casefold()) + r"(?![0-9a-z])")
    metadata = MetaData()
    with warnings.catch_warnings():
        # Expression indexes (lower(email)) cannot be reflected; only the columns matter here.
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection")
        metadata.reflect(bind=engine)
    found: list[Trace] = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            columns = list(table.columns)
            keys = list(table.primary_key.columns) or columns
            result = conn.execution_options(stream_results=True).execute(select(*keys, *columns))
            for batch in result.partitions(BATCH):
                for row in batch:
                    key = tuple(row[:len(keys)])
                    for column, value in zip(columns, row[len(keys):], strict=True):
                        text = _as_text(value)
                        if text is None:
                            continue
                        hit = wanted.search(text.casefold())
                        if hit:
                            at = hit.start()
                            found.append(Trace(table.name, column.name, key,
                                               text[max(0, at - 40):at + len(needle) + 40]))
    return found


def assert_no_trace(engine: Engine, *needles: str) -> None:
    """Fail, listing every copy, if any of `needles` is still stored anywhere in the database."""
    traces = [t for needle in needles for t in find_text(engine, needle)]
    assert not traces, "personal data still stored:\n" + "\n".join(str(t) for t in traces)
