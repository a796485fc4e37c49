"""The unit of work with this service's repositories (queries live here, rules in the domain)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from tillkey.messaging import SqlAlchemyUnitOfWork
from tillkey.notifications.adapters import tables
from tillkey.notifications.domain.messages import QUEUED, Message
from tillkey.notifications.domain.model import MerchantContact, OrderLine, OrderRecipient, Product
from tillkey.platform.clock import Clock, SystemClock
from tillkey.platform.pagination import paginate


class NotificationsUnitOfWork(SqlAlchemyUnitOfWork):
    def __init__(self, *args, clock: Clock | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.clock = clock or SystemClock()  # handlers read time here, so tests can move it

    def add(self, obj) -> None:
        self._open_session().add(obj)

    def merchant(self, merchant_id: str) -> MerchantContact | None:
        return self._open_session().get(MerchantContact, merchant_id)

    def recipient(self, order_id: str) -> OrderRecipient | None:
        return self._open_session().get(OrderRecipient, order_id)

    def line(self, line_id: str) -> OrderLine | None:
        return self._open_session().get(OrderLine, line_id)

    def product(self, product_id: str) -> Product | None:
        return self._open_session().get(Product, product_id)

    # -- messages --------------------------------------------------------------------------
    def message(self, message_id: str, *, lock: bool = False) -> Message | None:
        return self._open_session().get(Message, message_id, with_for_update=lock)

    def messages_locked(self, message_ids: list[str]) -> dict[str, Message]:
        m = tables.messages.c
        ids = sorted(set(message_ids))  # locked in id order, as every writer does: no deadlock
        return {msg.message_id: msg for msg in self._open_session().scalars(
            select(Message).where(m.message_id.in_(ids)).order_by(m.message_id).with_for_update())}

    def message_by_cause(self, cause: str) -> Message | None:
        return self._open_session().scalars(select(Message).where(tables.messages.c.cause == cause)).first()

    def messages_of_order(self, order_id: str) -> list[Message]:
        return list(self._open_session().scalars(select(Message).where(tables.messages.c.order_id == order_id)))

    def claim_due(self, now: datetime, limit: int) -> list[Message]:
        """Queued messages whose time has come, oldest first, locked so a second sender skips them.

        SKIP LOCKED on PostgreSQL; on SQLite the BEGIN IMMEDIATE of our engine serialises writers.
        The caller leases them (next_attempt_at moves on) and commits, so after the lock ends they
        stay out of other senders' polls until the lease runs out.
        """
        m = tables.messages.c
        stmt = (select(Message).where(m.status == QUEUED, m.next_attempt_at <= now)
                .order_by(m.next_attempt_at, m.created_at).limit(limit).with_for_update(skip_locked=True))
        return list(self._open_session().scalars(stmt))

    def next_due_at(self) -> datetime | None:
        """When the earliest queued message falls due (a retry, or a lease running out)."""
        m = tables.messages.c
        return self._open_session().scalar(select(func.min(m.next_attempt_at)).where(m.status == QUEUED))

    def messages_page(self, *, merchant_id: str | None, order_id: str | None, to: str | None,
                      limit: int, cursor: str | None, status: str | None = None):
        m = tables.messages.c
        stmt = select(Message)
        if merchant_id is not None:
            stmt = stmt.where(m.merchant_id == merchant_id)
        if order_id is not None:
            stmt = stmt.where(m.order_id == order_id)
        if to is not None:
            stmt = stmt.where(func.lower(m.to_address) == to.lower())
        if status is not None:
            stmt = stmt.where(m.status == status)
        return paginate(self._open_session(), stmt, m.created_at, m.message_id, limit, cursor)
