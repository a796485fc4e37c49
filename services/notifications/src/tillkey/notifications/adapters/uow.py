"""The unit of work with this service's repositories (queries live there, rules in the domain)."""
from __future__ import annotations

from typing import Self

from tillkey.messaging import SqlAlchemyUnitOfWork
from tillkey.notifications.adapters import repositories as r


class NotificationsUnitOfWork(SqlAlchemyUnitOfWork):
    def __enter__(self) -> Self:
        super().__enter__()
        session = self.active_session()
        # What a transaction read of recipients and merchants is kept for the handlers after it in
        # the same batch, and forgotten when it rolls back (writes_back); every write runs at once.
        self.merchants = self.writes_back(r.Merchants(session))
        self.recipients = self.writes_back(r.Recipients(session, self.merchants))
        self.lines = r.OrderLines(session)
        self.products = r.Products(session)
        self.messages = r.Messages(session)
        self.revoked_keys = r.RevokedKeys(session)
        return self
