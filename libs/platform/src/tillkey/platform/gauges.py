"""Gauges a service computes from its own tables when scraped (tillkey.platform.metrics.ScrapeCollector):
one small, indexed query each per scrape, never per request or message."""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from tillkey.platform.metrics import ScrapeCollector


def query_gauge(name: str, documentation: str, labels: list[str], session_factory,
                statement: Callable[[], object], defaults: dict | None = None) -> ScrapeCollector:
    """A gauge whose rows are `(label values…, value)` from `statement()`; `defaults` ({labels tuple:
    value}) are reported when the query returns no row for them (a count of nothing is 0, not absent)."""

    def read() -> dict:
        with session_factory() as session:
            rows = session.execute(statement()).all()
        values = dict(defaults or {})
        values.update({tuple(str(v) for v in row[:-1]): float(row[-1] or 0) for row in rows})
        return values

    return ScrapeCollector(name, documentation, labels, read)


def schedule_lag(service: str, loops: dict) -> ScrapeCollector:
    """Seconds since each scheduled loop ({name: loop with `last_run_at`, a time.monotonic()})
    last finished a pass: a loop that keeps failing or hangs shows a climbing value."""
    return ScrapeCollector("tillkey_scheduler_seconds_since_last_run", "Seconds since a scheduled loop last "
                           "finished a pass (its interval when healthy)", ["service", "loop"],
                           lambda: {(service, name): time.monotonic() - loop.last_run_at
                                    for name, loop in loops.items()})


def seconds_since(moment: datetime | None) -> float:
    if moment is None:
        return 0.0
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; they were written in UTC
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - moment).total_seconds())
