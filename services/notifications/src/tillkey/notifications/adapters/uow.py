"""The unit of work with this service's repositories."""
from __future__ import annotations

from tillkey.messaging import SqlAlchemyUnitOfWork
from tillkey.notifications.domain.model import MerchantContact, OrderRecipient


class NotificationsUnitOfWork(SqlAlchemyUnitOfWork):
    def merchant(self, merchant_id: str) -> MerchantContact | None:
        return self.session.get(MerchantContact, merchant_id)

    def recipient(self, order_id: str) -> OrderRecipient | None:
        return self.session.get(OrderRecipient, order_id)

    def add(self, obj) -> None:
        self.session.add(obj)
