"""The webhooks worker's gauges, read when scraped: endpoint health and deliveries waiting or given up."""
from __future__ import annotations

from sqlalchemy import case, func, select

from tillkey.platform.gauges import query_gauge
from tillkey.webhooks.adapters import tables

e, d = tables.endpoints, tables.deliveries
STATES = ("healthy", "failing", "disabled")


def collectors(session_factory) -> list:
    state = case((e.c.enabled.is_(False), "disabled"), (e.c.failing_since.is_not(None), "failing"), else_="healthy")
    return [
        query_gauge("tillkey_webhook_endpoints", "Merchant endpoints by state: healthy, failing (recent "
                    "deliveries fail), disabled (stopped after failing too long)", ["state"], session_factory,
                    lambda: select(state, func.count()).where(e.c.deleted_at.is_(None)).group_by(state),
                    {(s,): 0.0 for s in STATES}),
        # ix_deliveries_due leads with status: both counts are index scans.
        query_gauge("tillkey_webhook_deliveries", "Deliveries still being tried (pending) or given up (failed)",
                    ["status"], session_factory,
                    lambda: select(d.c.status, func.count()).where(d.c.status.in_(("pending", "failed")))
                    .group_by(d.c.status), {("pending",): 0.0, ("failed",): 0.0}),
    ]
