"""The unit of work with this service's repositories."""
from __future__ import annotations

from tillkey.messaging import SqlAlchemyUnitOfWork
from tillkey.orders.adapters import repositories as r


class OrdersUnitOfWork(SqlAlchemyUnitOfWork):
    def __enter__(self):
        super().__enter__()
        self.merchants = r.Merchants(self.session)
        self.api_keys = r.ApiKeys(self.session)
        self.products = r.Products(self.session)
        self.coupons = r.Coupons(self.session)
        self.carts = r.Carts(self.session)
        # Locked orders are read and written with Core (repositories.Orders.get): their changes go
        # into the transaction just before it commits, as the ORM's flush would have put them.
        self.orders = self.writes_back(r.Orders(self.session))
        self.refunds = r.Refunds(self.session)
        return self
