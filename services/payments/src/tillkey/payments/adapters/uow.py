"""The unit of work with this service's repositories."""
from __future__ import annotations

from sqlalchemy import select

from tillkey.messaging import SqlAlchemyUnitOfWork
from tillkey.payments.adapters import tables
from tillkey.payments.domain.model import Merchant, Order, Payment
from tillkey.platform.clock import Clock, SystemClock
from tillkey.platform.pagination import paginate


class PaymentsUnitOfWork(SqlAlchemyUnitOfWork):
    def __init__(self, *args, clock: Clock | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.clock = clock or SystemClock()

    def merchant(self, merchant_id: str) -> Merchant | None:
        return self.session.get(Merchant, merchant_id)

    def order(self, order_id: str) -> Order | None:
        return self.session.get(Order, order_id)

    def add(self, obj) -> None:
        self.session.add(obj)

    def payments_page(self, order_id: str, limit: int, cursor: str | None) -> tuple[list[Payment], str | None]:
        stmt = select(Payment).where(tables.payments.c.order_id == order_id)
        items, next_cursor = paginate(self.session, stmt, tables.payments.c.created_at,
                                      tables.payments.c.payment_id, limit, cursor)
        # A read for the HTTP edge: detach the rows so the rollback on leaving the unit of work
        # does not expire them before the response is dumped.
        for item in items:
            self.session.expunge(item)
        return items, next_cursor
