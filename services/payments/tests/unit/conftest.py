"""Unit-test fakes: an in-memory unit of work with the same ports as the real one (checked by
tests/integration/test_ports_conformance.py), and the Deps the handlers take."""
from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta

from tillkey.contracts import Envelope
from tillkey.payments.domain.bank_transfer import BankAccount
from tillkey.payments.domain.model import Merchant, Order, Payment
from tillkey.payments.domain.refunds import Refund
from tillkey.payments.service_layer import handlers
from tillkey.payments.service_layer.ports import Deps
from tillkey.platform.clock import FixedClock
from tillkey.testing.fakes import FakeUnitOfWork
from tillkey.testing.messaging import sample_envelope


class _Repo:
    """Objects by id, shared across `with` blocks like a database; `added` is the unit of work's."""

    def __init__(self, added: list[object]):
        self.items: dict[str, object] = {}
        self._added = added

    def __getitem__(self, key: str):
        return self.items[key]

    def __contains__(self, key: str) -> bool:
        return key in self.items


class FakeMerchants(_Repo):
    def add(self, merchant: Merchant) -> None:
        self._added.append(merchant)
        self.items[merchant.merchant_id] = merchant

    def get(self, merchant_id):
        return self.items.get(merchant_id)


class FakeOrders(_Repo):
    def __init__(self, added: list[object]):
        super().__init__(added)
        self.notified: set[tuple[str, str]] = set()  # the gateways' notifications recorded, by (gateway, id)

    def get(self, order_id, lock=False, *, with_payments=True, with_refunds=True):
        return self.items.get(order_id)

    def of_payment(self, payment_id, *, with_payments=True, with_refunds=True):
        return next((o for o in self.items.values() if any(p.payment_id == payment_id for p in o.payments)), None)

    def of_refund(self, refund_id, *, with_payments=True, with_refunds=True):
        return next((o for o in self.items.values() if any(r.refund_id == refund_id for r in o.refunds)), None)

    def of_notification(self, gateway, notification_id, type, reference, received_at, *, is_refund):
        order = self.of_refund(reference) if is_refund else self.of_payment(reference)
        if order is None or (gateway, notification_id) in self.notified:
            return order, False
        self.notified.add((gateway, notification_id))
        return order, True

    def add_unless_known(self, order: Order) -> bool:
        if order.order_id in self.items:
            return False
        self._added.append(order)
        self.items[order.order_id] = order
        return True


class FakePayments:
    def __init__(self, orders: FakeOrders):
        self._orders = orders

    def _all(self) -> list[Payment]:
        return [p for o in self._orders.items.values() for p in o.payments]

    def get(self, payment_id, *, with_refunds=True):
        return next((p for p in self._all() if p.payment_id == payment_id), None)

    def record_charge_accepted(self, payment_id, charge_id):
        payment = self.get(payment_id)
        if payment is None:
            return None
        payment.charge_id, payment.gateway_token = payment.charge_id or charge_id, None
        return payment.status

    def id_by_reference(self, reference):
        return next((p.payment_id for p in self._all() if p.reference == reference), None)

    def reference_taken(self, reference):
        return self.id_by_reference(reference) is not None

    def awaiting_submission(self, updated_before, limit=50):
        found = [p for p in self._all() if p.awaits_submission and p.updated_at <= updated_before]
        return sorted(found, key=lambda p: p.updated_at)[:limit]

    def page(self, order_id, limit, cursor):
        items = sorted((p for p in self._all() if p.order_id == order_id), key=lambda p: p.created_at, reverse=True)
        start = int(cursor or 0)
        return items[start:start + limit], (str(start + limit) if start + limit < len(items) else None)


class FakeRefunds:
    def __init__(self, orders: FakeOrders):
        self._orders = orders

    def _all(self) -> list[Refund]:
        return [r for o in self._orders.items.values() for r in o.refunds]

    def get(self, refund_id):
        return next((r for r in self._all() if r.refund_id == refund_id), None)

    def awaiting_submission(self, updated_before, limit=50):
        found = [r for r in self._all() if r.awaits_submission and r.updated_at <= updated_before]
        return sorted(found, key=lambda r: r.updated_at)[:limit]


class FakeRevokedKeys:
    def __init__(self):
        self.denied: dict[str, str] = {}

    def deny(self, merchant_id, key_id, revoked_at):
        self.denied.setdefault(key_id, merchant_id)


class FakePaymentsUow(FakeUnitOfWork):
    """ports.UnitOfWork in memory; `emit` validates events against their contracts."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.merchants = FakeMerchants(self.added)
        self.orders = FakeOrders(self.added)
        self.payments = FakePayments(self.orders)
        self.refunds = FakeRefunds(self.orders)
        self.revoked_keys = FakeRevokedKeys()


def make_deps(uow: FakePaymentsUow | None = None, clock=None) -> Deps:
    counter = itertools.count(1)
    uow = uow or FakePaymentsUow()
    return Deps(clock=clock or uow.clock, new_id=lambda prefix: f"{prefix}_{next(counter):06d}",
                uow_factory=lambda: uow, gateways={}, card_gateway="sandbox",
                bank_account=BankAccount("Tillkey Ltd", "Bank", "DE89370400440532013000", "COBADEFFXXX",
                                         timedelta(days=7)),
                public_url="https://pay.test")


def handle(uow: FakePaymentsUow, type: str, deps: Deps | None = None, **data) -> Envelope:
    """The event through every handler the table declares for its type, as the dispatcher runs them."""
    event = sample_envelope(type, **data)
    deps = deps or make_deps(uow)
    for handler in handlers.EVENT_HANDLERS[event.type]:
        call: Callable = handler.handle
        call(event, uow, deps)
    return event


__all__ = ["FakePaymentsUow", "FixedClock", "handle", "make_deps"]
