"""The unit of work with this service's repositories (adapters/repositories.py)."""
from __future__ import annotations

import threading
from typing import Any

from tillkey.fulfillment.adapters import repositories as r
from tillkey.messaging import SqlAlchemyUnitOfWork


class FulfillmentUnitOfWork(SqlAlchemyUnitOfWork):
    def __init__(self, *args: Any, calls_scheduled: threading.Event | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._calls_scheduled = calls_scheduled

    def __enter__(self):
        super().__enter__()
        session = self.active_session()
        self.products = r.Products(session)
        # Locked orders and pools are read and written with Core (repositories.Orders.get,
        # Pools.get): their changes go into the transaction just before it commits, as the ORM's
        # flush would have put them, and are forgotten when it rolls back.
        # The sources read with a locked order's lines are kept for its delivery, until the
        # transaction ends (repositories.Sources).
        # The pools a locked order's lines lock with them go to Pools (repositories.Orders.get).
        self.sources = self.writes_back(r.Sources(session))
        pools = r.Pools(session)
        self.orders = self.writes_back(r.Orders(session, self.sources, pools))
        self.pools = self.writes_back(pools)
        self.signing_keys = r.SigningKeys(session)
        self.generated_keys = r.GeneratedKeys(session)
        self.activations = r.Activations(session)
        self.revoked_keys = r.RevokedKeys(session)
        return self

    def web_service_call_scheduled(self) -> None:
        """A line now waits for a call to the merchant's web service: the consumer wakes the call
        worker after its batch commits (and only then: waking it for every batch cost a claim query
        per batch that found nothing). Set before the commit, so a rolled-back batch only costs a
        needless wake-up, never a missed one."""
        if self._calls_scheduled is not None:
            self._calls_scheduled.set()
