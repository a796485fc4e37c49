"""The unit of work with this service's repositories."""
from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.orm import class_mapper, noload, selectinload

from tillkey.messaging import SqlAlchemyUnitOfWork
from tillkey.payments.adapters import rows, tables
from tillkey.payments.domain.model import Merchant, Order, Payment
from tillkey.payments.domain.refunds import Refund
from tillkey.platform.clock import Clock, SystemClock
from tillkey.platform.pagination import paginate
from tillkey.platform.sql import insert_unless_present


class PaymentsUnitOfWork(SqlAlchemyUnitOfWork):
    def __init__(self, *args, clock: Clock | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.clock = clock or SystemClock()

    def merchant(self, merchant_id: str) -> Merchant | None:
        return self._open_session().get(Merchant, merchant_id)

    def order(self, order_id: str, *, lock: bool = False, with_payments: bool = True,
              with_refunds: bool = True) -> Order | None:
        """`lock`: hold the order's row until commit (PostgreSQL `FOR UPDATE`), so two requests or
        notifications about one order decide one after the other. SQLite serializes every write
        transaction anyway (BEGIN IMMEDIATE). A locked order comes with its payments and refunds
        (one statement each) unless the caller says it never looks at them: an unloaded one still
        loads when touched, it only costs a statement then."""
        if not lock:
            return self._open_session().get(Order, order_id)
        return self._locked(_locked_order("order", with_payments, with_refunds), order_id)

    def order_of(self, *, payment_id: str | None = None, refund_id: str | None = None,
                 with_payments: bool = True, with_refunds: bool = True) -> Order | None:
        """The order a payment or refund belongs to, locked and loaded like `order(lock=True)`, in
        one statement (a join on the attempt's id; an attempt never changes order). None if no
        such payment or refund."""
        by, key = ("refund", refund_id) if refund_id is not None else ("payment", payment_id)
        return self._locked(_locked_order(by, with_payments, with_refunds), key)

    def _locked(self, statement: Select, key: str | None) -> Order | None:
        session = self._open_session()
        # Whatever this unit of work read before the lock may be stale: reload it after.
        session.expire_all()
        return session.execute(statement, {"key": key}).scalar_one_or_none()

    def payment(self, payment_id: str, *, with_refunds: bool = True) -> Payment | None:
        """`with_refunds=False` when the caller never looks at them: one statement, not two."""
        options = () if with_refunds else (noload(_attribute(Payment, "refunds")),)
        return self._open_session().get(Payment, payment_id, options=options)

    def record_charge_accepted(self, payment_id: str, charge_id: str) -> str | None:
        """Payment.record_charge as one UPDATE, without loading and locking the order: the charge id
        only ever goes from none to this gateway's (the notification may have written the same one).
        Returns the attempt's status as this UPDATE found it (None: no such attempt)."""
        p = tables.payments.c
        return self._open_session().execute(update(tables.payments).where(p.payment_id == payment_id).values(
            charge_id=func.coalesce(p.charge_id, charge_id), gateway_token=None).returning(p.status)).scalar()

    def refund(self, refund_id: str) -> Refund | None:
        return self._open_session().get(Refund, refund_id)

    def payment_id_by_reference(self, reference: str) -> str | None:
        """The bank transfer with this reference (unique index uq_payments_reference)."""
        return self._open_session().scalar(select(tables.payments.c.payment_id).where(
            tables.payments.c.reference == reference))

    def reference_taken(self, reference: str) -> bool:
        return self.payment_id_by_reference(reference) is not None

    def add(self, obj) -> None:
        self._open_session().add(obj)

    def add_order_unless_known(self, order: Order) -> bool:
        """A new order with the payments it comes with (a free order's), in Core statements: False,
        and nothing written, when an order with its id is here already (orders re-emitting)."""
        session = self._open_session()
        if not insert_unless_present(session, tables.orders, rows.order_values(order), conflict_on="order_id"):
            return False
        if order.payments:
            session.connection().execute(_INSERT_PAYMENT, [rows.payment_values(p) for p in order.payments])
        return True

    def record_notification(self, gateway: str, notification_id: str, type: str, reference: str) -> bool:
        """False if this notification was recorded before (a redelivery): the caller does nothing."""
        # The same notification delivered twice at once: the second waits for the first and skips.
        return insert_unless_present(self._open_session(), tables.gateway_notifications, {
            "gateway": gateway, "notification_id": notification_id, "type": type, "reference": reference,
            "received_at": self.clock.now()})

    def payments_awaiting_submission(self, updated_before: datetime, limit: int = 50) -> list[Payment]:
        p = tables.payments.c
        return list(self._open_session().scalars(select(Payment).where(
            p.status == "pending", p.gateway_token.is_not(None), p.charge_id.is_(None),
            p.updated_at <= updated_before).order_by(p.updated_at).limit(limit)))

    def refunds_awaiting_submission(self, updated_before: datetime, limit: int = 50) -> list[Refund]:
        r = tables.refunds.c
        return list(self._open_session().scalars(select(Refund).where(
            r.status == "pending", r.gateway.is_not(None), r.gateway_refund_id.is_(None),
            r.updated_at <= updated_before).order_by(r.updated_at).limit(limit)))

    def payments_page(self, order_id: str, limit: int, cursor: str | None) -> tuple[list[Payment], str | None]:
        stmt = select(Payment).where(tables.payments.c.order_id == order_id)
        items, next_cursor = paginate(self._open_session(), stmt, tables.payments.c.created_at,
                                      tables.payments.c.payment_id, limit, cursor)
        # A read for the HTTP edge: detach the rows so the rollback on leaving the unit of work
        # does not expire them before the response is dumped.
        for item in items:
            self._open_session().expunge(item)
        return items, next_cursor


# Built once: a statement's cache key is computed once per statement object, and these run per message.
_INSERT_PAYMENT = tables.payments.insert()


@functools.cache  # built once per process: the ORM compiles it once and reuses it with each key
def _locked_order(by: str, with_payments: bool, with_refunds: bool) -> Select:
    """The order, `FOR UPDATE` (PostgreSQL; of the orders row only when joined), found by its own
    id or by one of its payments' or refunds' (`by`), with the collections asked for loaded by one
    `SELECT … WHERE order_id IN (…)` each instead of a lazy load on first touch."""
    o = tables.orders.c
    if by == "order":
        statement = select(Order).where(o.order_id == bindparam("key")).with_for_update()
    else:
        child = tables.payments if by == "payment" else tables.refunds
        statement = (select(Order).join(child, child.c.order_id == o.order_id)
                     .where(child.c[f"{by}_id"] == bindparam("key")).with_for_update(of=tables.orders))
    options = []
    if with_payments:
        # The payments' own `refunds` (the API's read side) stay unloaded: the order's list has them.
        options.append(selectinload(_attribute(Order, "payments")).lazyload(_attribute(Payment, "refunds")))
    if with_refunds:
        options.append(selectinload(_attribute(Order, "refunds")))
    return statement.options(*options).execution_options(populate_existing=True)


def _attribute(cls: type, name: str):
    # The relationships exist on the mapped classes only (adapters/tables.py), not on the domain's.
    return class_mapper(cls).attrs[name].class_attribute
