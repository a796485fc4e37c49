"""The notifications worker's gauges, read when scraped: emails waiting, deferred and failed."""
from __future__ import annotations

from sqlalchemy import case, func, select

from tillkey.notifications.adapters import tables
from tillkey.platform.gauges import query_gauge

m = tables.messages


def collectors(session_factory) -> list:
    # Queued with an error: a try failed and it waits for the next (deferred). Sent emails are not
    # counted here (a count over every email ever sent is not a per-scrape query).
    status = case((m.c.status == "failed", "failed"), (m.c.last_error.is_not(None), "deferred"), else_="queued")
    return [
        query_gauge("tillkey_emails", "Emails not sent yet (queued, deferred after a failed try) or given up (failed)",
                    ["status"], session_factory,
                    lambda: select(status, func.count()).where(m.c.status.in_(("queued", "failed"))).group_by(status),
                    {(s,): 0.0 for s in ("queued", "deferred", "failed")}),
    ]
