"""What the worker's hot path costs in statements (SQLite and PostgreSQL), and what it writes."""
from __future__ import annotations

import re
from collections import Counter
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from tillkey.contracts import load_sample
from tillkey.fulfillment.adapters import tables
from tillkey.testing.messaging import sample_envelope

from .conftest import place_order

pytestmark = pytest.mark.integration
ORDER = load_sample("order.created")["data"]["order_id"]
_STATEMENT = re.compile(r"\s*(SELECT\b.*?\bFROM|INSERT INTO|UPDATE)\s+(\w+)", re.S | re.I)


@contextmanager
def statements(service):
    """(kind, table, text) of each SELECT, INSERT and UPDATE the engine runs meanwhile."""
    seen: list[tuple[str, str, str]] = []

    def record(_conn, _cursor, statement, *_args):
        match = _STATEMENT.match(statement)
        if match:
            seen.append((match.group(1).split()[0].upper(), match.group(2), " ".join(statement.split())))

    event.listen(service.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(service.engine, "before_cursor_execute", record)


def counts(seen) -> Counter:
    return Counter(f"{kind} {table}" for kind, table, _text in seen if table not in ("inbox", "outbox"))


def rows_of(service, table):
    with service.engine.connect() as conn:
        return conn.execute(select(table).order_by(*table.primary_key.columns)).all()


def test_a_new_order_is_one_insert_and_its_lines_one_more(service):
    with statements(service) as seen:
        place_order(service, ORDER, [("line_1aaaaaaaaa", "prod_a", 1), ("line_2aaaaaaaaa", "prod_b", 3)])
    assert counts(seen) == {"INSERT orders": 1, "INSERT deliveries": 1}
    [order] = rows_of(service, tables.orders)
    assert (order.order_id, order.status, order.email) == (ORDER, "not_paid", "ada@example.com")
    lines = rows_of(service, tables.deliveries)
    assert [(d.line_id, d.product_id, d.quantity, d.position, d.status, d.method, d.licenses, d.attempts)
            for d in lines] == [("line_1aaaaaaaaa", "prod_a", 1, 0, "pending", None, [], 0),
                                ("line_2aaaaaaaaa", "prod_b", 3, 1, "pending", None, [], 0)]


def test_an_order_said_again_writes_nothing_more(service):
    service.dispatcher(sample_envelope("order.created"))
    with statements(service) as seen:
        service.dispatcher(sample_envelope("order.created", new_id=True, merchant_id="mer_somebodyElse"))
    assert counts(seen) == {"INSERT orders": 1}  # the one that found it there
    assert [o.merchant_id for o in rows_of(service, tables.orders)] == ["mer_7Yb2kQ9xTz"]
    assert len(rows_of(service, tables.deliveries)) == 1

