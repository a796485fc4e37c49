"""What the worker's handlers cost in statements (SQLite and PostgreSQL), and what they write."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tillkey.payments.adapters import tables
from tillkey.testing.messaging import sample_envelope

from .test_pay_path_statements import counted

pytestmark = pytest.mark.integration
ORDER = "ord_3Hq8ZrW2mNp5"


def rows_of(service, table, order_id=ORDER):
    with service.session_factory() as s:
        return s.execute(select(table).where(table.c.order_id == order_id)).mappings().all()


def test_a_new_order_is_one_insert_and_a_repeated_one_writes_nothing(service):
    with counted(service) as seen:
        service.dispatcher(sample_envelope("order.created"))
    assert seen == {"SELECT inbox": 1, "INSERT inbox": 1, "INSERT orders": 1}
    [order] = rows_of(service, tables.orders)
    assert (order.amount, order.currency, order.status, order.payment_method) == (8820, "EUR", "not_paid", "card")
    assert order.summary["lines"] and rows_of(service, tables.payments) == []
    with counted(service) as seen:  # orders says it again (another event id): nothing written but the inbox's
        service.dispatcher(sample_envelope("order.created", new_id=True, total=1))
    assert seen == {"SELECT inbox": 1, "INSERT inbox": 1, "INSERT orders": 1}
    assert rows_of(service, tables.orders)[0].amount == 8820


def test_a_free_order_is_written_with_its_free_payment_and_announced_once(service):
    with counted(service) as seen:
        service.dispatcher(sample_envelope("order.created", total=0, discount=9800))
    assert seen == {"SELECT inbox": 1, "INSERT inbox": 1, "INSERT orders": 1, "INSERT payments": 1,
                    "INSERT outbox": 1}
    assert rows_of(service, tables.orders)[0].status == "paid"
    [payment] = rows_of(service, tables.payments)
    assert (payment.method, payment.status, payment.amount) == ("free", "succeeded", 0)
    with counted(service) as seen:
        service.dispatcher(sample_envelope("order.created", new_id=True, total=0, discount=9800))
    assert "INSERT payments" not in seen and "INSERT outbox" not in seen
    assert len(rows_of(service, tables.payments)) == 1
