"""The unit of work with this service's repositories."""
from __future__ import annotations

from tillkey.fulfillment.domain.model import Order, Product
from tillkey.messaging import SqlAlchemyUnitOfWork
from tillkey.platform.clock import Clock, SystemClock


class FulfillmentUnitOfWork(SqlAlchemyUnitOfWork):
    def __init__(self, *args, clock: Clock | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.clock = clock or SystemClock()

    def product(self, product_id: str) -> Product | None:
        return self.session.get(Product, product_id)

    def order(self, order_id: str) -> Order | None:
        return self.session.get(Order, order_id)

    def add(self, obj) -> None:
        self.session.add(obj)

    def order_for_reading(self, order_id: str) -> Order | None:
        """The order with its deliveries loaded and detached, for the HTTP edge: leaving the unit
        of work rolls back, which would otherwise expire it before the response is dumped."""
        order = self.order(order_id)
        if order is not None:
            list(order.deliveries)  # load them: expunging cascades to loaded deliveries only
            self.session.expunge(order)
        return order
