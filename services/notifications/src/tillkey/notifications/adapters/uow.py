"""The unit of work with this service's repositories (queries live there, rules in the domain)."""
from __future__ import annotations

from typing import Any, Self

from tillkey.messaging import SqlAlchemyUnitOfWork
from tillkey.notifications.adapters import repositories as r


class NotificationsUnitOfWork(SqlAlchemyUnitOfWork):
    def __init__(self, *args: Any, existing_products: set[str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # The product ids this process saw committed (adapters/repositories.py Products), shared by
        # every unit of work of one service (bootstrap); None: each unit of work reads them anew.
        self._existing_products = existing_products

    def __enter__(self) -> Self:
        super().__enter__()
        session = self.active_session()
        # What a transaction read of recipients and merchants is kept for the handlers after it in
        # the same batch, and forgotten when it rolls back (writes_back); every write runs at once.
        self.merchants = self.writes_back(r.Merchants(session))
        self.recipients = self.writes_back(r.Recipients(session, self.merchants))
        self.lines = r.OrderLines(session)
        self.products = self.writes_back(r.Products(session, self._existing_products))
        self.messages = r.Messages(session)
        self.revoked_keys = r.RevokedKeys(session)
        return self

    def commit(self) -> None:
        super().commit()
        self.products.committed()  # only now are the rows this transaction found or wrote for sure
