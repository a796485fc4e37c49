"""Time as a port: production reads the system clock, tests move a fixed one."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    def __init__(self, at: datetime | None = None):
        self._at = at or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, **delta) -> None:
        self._at += timedelta(**delta)


def as_utc(dt: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def seconds_until(moment: datetime | None, now: datetime) -> float | None:
    """Seconds from `now` to `moment` (negative when past); None when there is no moment."""
    return None if moment is None else (as_utc(moment) - as_utc(now)).total_seconds()


def isoformat(dt: datetime | None) -> str | None:
    """RFC 3339 in UTC with `Z` and millisecond precision."""
    if dt is None:
        return None
    return as_utc(dt).isoformat(timespec="milliseconds").replace("+00:00", "Z")
