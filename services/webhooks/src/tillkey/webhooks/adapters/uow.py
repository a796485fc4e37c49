"""The unit of work with this service's repositories (adapters/repositories.py)."""
from __future__ import annotations

from tillkey.messaging import SqlAlchemyUnitOfWork
from tillkey.webhooks.adapters import repositories as r


class WebhooksUnitOfWork(SqlAlchemyUnitOfWork):
    def __enter__(self) -> WebhooksUnitOfWork:
        super().__enter__()
        session = self.active_session()
        # What a transaction adds to these three is written with Core, each table in one statement,
        # before the transaction's next read of them or just before it commits: in this order, for
        # the foreign keys (a delivery's event first). Forgotten at a rollback.
        self.order_records = self.writes_back(r.OrderRecords(session, self.write_unwritten))
        self.events = self.writes_back(r.Events(session, self.write_unwritten))
        self.deliveries = self.writes_back(r.Deliveries(session, self.write_unwritten))
        # Endpoints locked to settle attempts are read with Core; their changes are written at commit.
        self.endpoints = self.writes_back(r.Endpoints(session))
        self.revoked_api_keys = r.RevokedApiKeys(session)
        return self

    def write_unwritten(self) -> None:
        """Write what this transaction added to order records, events and deliveries (not yet
        written): their repositories' reads call it first, so the transaction reads what it wrote."""
        self.order_records.write_new()
        self.events.write_changes()
        self.deliveries.write_changes()
