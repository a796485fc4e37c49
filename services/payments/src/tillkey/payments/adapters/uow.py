"""The unit of work with this service's repositories."""
from __future__ import annotations

from typing import Any

from tillkey.messaging import SqlAlchemyUnitOfWork
from tillkey.payments.adapters import repositories as r
from tillkey.payments.domain.model import Order, Payment
from tillkey.platform.clock import Clock, SystemClock


class PaymentsUnitOfWork(SqlAlchemyUnitOfWork):
    def __init__(self, *args: Any, clock: Clock | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Only for the tests that set rows up by hand (the use cases take the time from ports.Deps),
        # bootstrap passes the same clock as to Deps.
        self.clock = clock or SystemClock()

    def __enter__(self) -> PaymentsUnitOfWork:
        super().__enter__()
        session = self.active_session()
        self.merchants = r.Merchants(session)
        # Locked orders are read and written with Core (repositories.Orders): their changes go into
        # the transaction just before it commits, as the ORM's flush would have put them.
        self.orders = self.writes_back(r.Orders(session))
        self.payments = r.Payments(session)
        self.refunds = r.Refunds(session)
        self.notifications = r.Notifications(session)
        self.revoked_keys = r.RevokedKeys(session)
        return self

    # The names before the repositories (issue 15), which tests/integration/test_pay_path_statements.py
    # and test_worker_statements.py call and must keep calling unchanged. Not in ports.UnitOfWork: the
    # service layer uses the repositories.

    def order(self, order_id: str, *, lock: bool = False, with_payments: bool = True,
              with_refunds: bool = True) -> Order | None:
        return self.orders.get(order_id, lock, with_payments=with_payments, with_refunds=with_refunds)

    def order_of(self, *, payment_id: str | None = None, refund_id: str | None = None,
                 with_payments: bool = True, with_refunds: bool = True) -> Order | None:
        if refund_id is not None:
            return self.orders.of_refund(refund_id, with_payments=with_payments, with_refunds=with_refunds)
        if payment_id is not None:
            return self.orders.of_payment(payment_id, with_payments=with_payments, with_refunds=with_refunds)
        return None

    def payment(self, payment_id: str, *, with_refunds: bool = True) -> Payment | None:
        return self.payments.get(payment_id, with_refunds=with_refunds)
