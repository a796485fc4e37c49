"""The unit of work with this service's repositories."""
from __future__ import annotations

from tillkey.messaging import SqlAlchemyUnitOfWork
from tillkey.payments.adapters import repositories as r


class PaymentsUnitOfWork(SqlAlchemyUnitOfWork):
    def __enter__(self) -> PaymentsUnitOfWork:
        super().__enter__()
        session = self.active_session()
        self.merchants = r.Merchants(session)
        # Locked orders are read and written with Core (repositories.Orders): their changes go into
        # the transaction just before it commits, as the ORM's flush would have put them.
        self.orders = self.writes_back(r.Orders(session))
        self.payments = r.Payments(session)
        self.refunds = r.Refunds(session)
        self.revoked_keys = r.RevokedKeys(session)
        return self
