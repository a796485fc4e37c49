"""What the worker's handlers cost in statements (SQLite and PostgreSQL), and what they write."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import inspect, select

from tillkey.payments.adapters import tables
from tillkey.payments.domain.model import Order, Payment
from tillkey.payments.domain.refunds import Refund
from tillkey.testing.messaging import sample_envelope
from tillkey.testing.statements import recorded_statements, statement_kind

from .test_pay_path_statements import counts, locked_order, order_written_with

pytestmark = pytest.mark.integration
ORDER = "ord_3Hq8ZrW2mNp5"


def rows_of(service, table, order_id=ORDER):
    with service.session_factory() as s:
        return s.execute(select(table).where(table.c.order_id == order_id)).mappings().all()


def test_a_new_order_is_one_insert_and_a_repeated_one_writes_nothing(service):
    with recorded_statements(service.engine) as seen:
        service.dispatcher(sample_envelope("order.created"))
    assert counts(seen) == {"INSERT inbox": 1, "INSERT orders": 1}
    [order] = rows_of(service, tables.orders)
    assert (order.amount, order.currency, order.status, order.payment_method) == (8820, "EUR", "not_paid", "card")
    assert order.summary["lines"] and rows_of(service, tables.payments) == []
    # orders says it again (another event id): nothing written but the inbox's
    with recorded_statements(service.engine) as seen:
        service.dispatcher(sample_envelope("order.created", new_id=True, total=1))
    assert counts(seen) == {"INSERT inbox": 1, "INSERT orders": 1}
    assert rows_of(service, tables.orders)[0].amount == 8820


def test_a_free_order_is_written_with_its_free_payment_and_announced_once(service):
    with recorded_statements(service.engine) as seen:
        service.dispatcher(sample_envelope("order.created", total=0, discount=9800))
    assert counts(seen) == {"INSERT inbox": 1, "INSERT orders": 1, "INSERT payments": 1,
                            "INSERT outbox": 1}
    assert rows_of(service, tables.orders)[0].status == "paid"
    [payment] = rows_of(service, tables.payments)
    assert (payment.method, payment.status, payment.amount) == ("free", "succeeded", 0)
    with recorded_statements(service.engine) as seen:
        service.dispatcher(sample_envelope("order.created", new_id=True, total=0, discount=9800))
    assert "INSERT payments" not in counts(seen) and "INSERT outbox" not in counts(seen)
    assert len(rows_of(service, tables.payments)) == 1


# -- an order locked by Core: read once per transaction, written back as it changed ---------------------

@pytest.fixture
def paid_order(service):
    """An order paid by card here: its payment written through a locked order's commit."""
    service.dispatcher(sample_envelope("order.created"))
    with service.uow_factory() as uow:
        order = uow.orders.get(ORDER, lock=True)
        at = service.deps.clock.now()
        order.payments.append(Payment("pay_paid", ORDER, "card", "succeeded", 8820, "EUR", at, at,
                                      gateway="sandbox", charge_id="ch_1"))
        order.status = "paid"
        uow.commit()
    return ORDER


def test_a_locked_order_and_its_new_payment_are_written_at_commit(service, paid_order):
    assert rows_of(service, tables.orders)[0].status == "paid"
    [payment] = rows_of(service, tables.payments)
    assert (payment.payment_id, payment.status, payment.charge_id) == ("pay_paid", "succeeded", "ch_1")


def test_closing_a_paid_order_locks_it_and_writes_only_what_changed(service, paid_order):
    inbox_only = service.dispatcher.dispatcher  # no follow-up thread sending the refund meanwhile
    with recorded_statements(service.engine) as seen:
        inbox_only(sample_envelope("order.canceled"))
    locks = [text for text in seen if statement_kind(text) == "SELECT orders"]
    updates = [text for text in seen if "UPDATE orders SET " in text]  # alone, or in a WITH (PostgreSQL)
    assert counts(seen) == {"INSERT inbox": 1, **locked_order(service), "SELECT refunds": 1,
                            **order_written_with(service, "INSERT refunds")}
    if service.engine.dialect.name == "postgresql":
        assert locks[0].endswith("FOR UPDATE")
        assert updates[0].startswith("WITH order_update AS (UPDATE orders SET ") and "INSERT INTO refunds" in updates[0]
    [update] = updates
    set_clause = update.split("UPDATE orders SET ")[1].split(" WHERE ")[0]
    assert set_clause.split("=")[0] == "status" and "," not in set_clause  # the one column that changed
    assert rows_of(service, tables.orders)[0].status == "canceled"
    [refund] = rows_of(service, tables.refunds)
    assert (refund.payment_id, refund.amount, refund.status, refund.automatic) == ("pay_paid", 8820, "pending", True)
    assert rows_of(service, tables.payments)[0].status == "succeeded"  # unchanged, not written


def test_a_batch_locks_an_order_once_and_sees_what_it_changed_so_far(service, paid_order):
    # Two refunds of 5000 on a payment of 8820: the second must see the first one holding its part.
    first, second = (sample_envelope("refund.requested", new_id=True, refund_id=f"re_{n}", amount=5000)
                     for n in ("first", "second"))
    with recorded_statements(service.engine) as seen:
        service.dispatcher.dispatcher.handle_batch([first, second])
    # The order's once, each id's check once.
    assert counts(seen)["SELECT payments"] == locked_order(service).get("SELECT payments", 0)
    assert counts(seen)["SELECT refunds"] == 3
    assert counts(seen)["INSERT refunds"] == 1  # both in one statement
    statuses = {r.refund_id: (r.status, r.failure_code) for r in rows_of(service, tables.refunds)}
    assert statuses == {"re_first": ("pending", None), "re_second": ("failed", "amount_too_large")}


def test_a_locked_order_is_built_without_the_orms_init_and_changes_as_one_built_with_it(service, paid_order,
                                                                                          monkeypatch):
    # The ORM's instrumented __init__ costs ~25 times a plain object's (adapters/rows.py): a locked
    # order and its payments never go through it.
    for cls in (Order, Payment, Refund):
        monkeypatch.setattr(cls, "__init__", _refused)
    with service.uow_factory() as uow:
        order = uow.orders.get(ORDER, lock=True)
        [payment] = order.payments
        assert type(order) is Order and type(payment) is Payment and order.refunds == []
        assert inspect(order).transient and inspect(payment).transient  # as __init__ leaves them
        assert (order.status, order.amount, order.summary["lines"][0]["quantity"]) == ("paid", 8820, 2)
        assert (payment.payment_id, payment.status, payment.charge_id) == ("pay_paid", "succeeded", "ch_1")
        monkeypatch.undo()
        order.status, payment.failure_code = "canceled", "x"
        uow.commit()
    assert rows_of(service, tables.orders)[0].status == "canceled"
    assert rows_of(service, tables.payments)[0].failure_code == "x"


def test_a_fresh_process_may_lock_an_order_before_anything_else_builds_or_loads_one(service, paid_order):
    # The ORM configures its mappers on a first __init__ or query; building without __init__ must not
    # depend on one having happened (a new gunicorn worker's first request is a payment attempt).
    script = textwrap.dedent(f"""
        from tillkey.payments.adapters import tables
        from tillkey.payments.adapters.uow import PaymentsUnitOfWork
        from tillkey.platform.db import make_engine, make_session_factory
        tables.start_mappers()
        engine = make_engine({service.settings.database_url!r})
        with PaymentsUnitOfWork(make_session_factory(engine), tables.outbox, "payments") as uow:
            order = uow.orders.get({ORDER!r}, lock=True)
            print(order.status, *(p.payment_id for p in order.payments))
        engine.dispose()
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["paid", "pay_paid"]


def _refused(self, *args, **kwargs):
    raise AssertionError(f"{type(self).__name__}.__init__ called for a locked order")


def test_a_rolled_back_change_is_forgotten(service, paid_order):
    with service.uow_factory() as uow:
        uow.orders.get(ORDER, lock=True).status = "canceled"
        uow.rollback()
        order = uow.orders.get(ORDER, lock=True)
        assert order.status == "paid"
        uow.commit()
    assert rows_of(service, tables.orders)[0].status == "paid"


def test_a_collection_not_asked_for_is_read_when_touched(service, paid_order):
    with service.uow_factory() as uow, recorded_statements(service.engine) as seen:
        order = uow.orders.of_payment("pay_paid", with_refunds=False)
        assert counts(seen) == locked_order(service)
        assert order.refunds == [] and counts(seen)["SELECT refunds"] == 1
        at = service.deps.clock.now()
        order.refunds.append(Refund("re_late", ORDER, "pay_paid", 100, "EUR", "pending", "asked", at, at))
        uow.commit()
    assert [r.refund_id for r in rows_of(service, tables.refunds)] == ["re_late"]
