"""What the worker's hot path costs in statements (SQLite and PostgreSQL), and what it writes."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from tillkey.contracts import load_sample
from tillkey.fulfillment.adapters import tables
from tillkey.testing.messaging import sample_envelope
from tillkey.testing.statements import counted, recorded_statements, statement_kind

from .conftest import place_order

pytestmark = pytest.mark.integration
ORDER = load_sample("order.created")["data"]["order_id"]


def counts(seen) -> Counter:
    return counted(seen, excluding=("inbox", "outbox"))


def rows_of(service, table):
    with service.engine.connect() as conn:
        return conn.execute(select(table).order_by(*table.primary_key.columns)).all()


def test_a_new_order_is_one_insert_and_its_lines_one_more(service):
    with recorded_statements(service.engine) as seen:
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
    with recorded_statements(service.engine) as seen:
        service.dispatcher(sample_envelope("order.created", new_id=True, merchant_id="mer_somebodyElse"))
    assert counts(seen) == {"INSERT orders": 1}  # the one that found it there
    assert [o.merchant_id for o in rows_of(service, tables.orders)] == ["mer_7Yb2kQ9xTz"]
    assert len(rows_of(service, tables.deliveries)) == 1


# -- order.paid: the order and its lines locked and read by Core, written back as they changed ---------

POOLED = "prod_pooledaaaa"


@pytest.fixture
def pooled_order(service, client):
    """An order of two lines of a pool product (threshold 3), five keys in the pool, not paid yet."""
    from .conftest import know_product, merchant_headers
    know_product(service, POOLED)
    assert client.put(f"/v1/products/{POOLED}/license-source", headers=merchant_headers(),
                      json={"method": "pool", "low_stock_threshold": 3}).status_code == 200
    assert client.post(f"/v1/products/{POOLED}/licenses", headers=merchant_headers(),
                       json={"keys": [f"K-{n}" for n in range(5)]}).status_code == 201
    place_order(service, ORDER, [("line_1aaaaaaaaa", POOLED, 1), ("line_2aaaaaaaaa", POOLED, 2)])
    return ORDER


def pay(service):
    service.dispatcher(sample_envelope("order.paid", new_id=True, order_id=ORDER))


def test_paying_locks_the_order_and_writes_only_what_changed(service, pooled_order):
    with recorded_statements(service.engine) as seen:
        pay(service)
    # Each line's claim is one WITH … UPDATE … RETURNING that also counts what is left for the
    # low-stock check (it was a SELECT … FOR UPDATE, an UPDATE and a SELECT count: 2 more a line).
    # The lines' license sources come with the lines (a LEFT JOIN), not one SELECT a line after,
    # and so does the pool the claims need locked (no SELECT pools).
    assert counts(seen) == {"SELECT orders": 1, "SELECT deliveries": 1, "WITH license_keys": 2,
                            "UPDATE orders": 1, "UPDATE deliveries": 1, "UPDATE pools": 1}
    texts = {statement_kind(text): text for text in seen}  # the last of each
    claim = texts["WITH license_keys"]
    assert " UPDATE license_keys SET " in claim and " RETURNING " in claim
    if service.engine.dialect.name == "postgresql":
        assert texts["SELECT orders"].endswith("FOR UPDATE")
        assert "LEFT OUTER JOIN LATERAL (SELECT pools." in texts["SELECT deliveries"]
        assert "FOR UPDATE) AS pool ON true" in texts["SELECT deliveries"]
        assert "FOR UPDATE SKIP LOCKED" in claim
    set_clause = texts["UPDATE orders"].split(" SET ")[1].split(" WHERE ")[0]
    assert set_clause.split("=")[0].strip() == "status" and "," not in set_clause  # the one column that changed
    assert texts["UPDATE pools"].split(" SET ")[1].split("=")[0].strip() == "alarm_armed"
    assert [o.status for o in rows_of(service, tables.orders)] == ["paid"]
    lines = rows_of(service, tables.deliveries)
    assert [(d.status, d.method, d.licenses) for d in lines] == [
        ("delivered", "pool", ["K-0"]), ("delivered", "pool", ["K-1", "K-2"])]
    assert [p.alarm_armed for p in rows_of(service, tables.pools)] == [False]  # 2 left, below 3: fired once


def test_a_second_payment_event_starts_nothing_and_writes_nothing(service, pooled_order):
    pay(service)
    with recorded_statements(service.engine) as seen:
        pay(service)
    assert counts(seen) == {"SELECT orders": 1, "SELECT deliveries": 1}
    assert sorted(k.line_id or "" for k in rows_of(service, tables.license_keys)) == [
        "", "", "line_1aaaaaaaaa", "line_2aaaaaaaaa", "line_2aaaaaaaaa"]


def test_a_batch_locks_an_order_once_and_sees_what_it_changed_so_far(service, pooled_order):
    with recorded_statements(service.engine) as seen:
        service.dispatcher.handle_batch([
            sample_envelope("order.paid", new_id=True, order_id=ORDER),
            sample_envelope("order.paid", new_id=True, order_id=ORDER)])
    assert counts(seen)["SELECT orders"] == 1 and counts(seen)["WITH license_keys"] == 2  # two claims
    assert len([k for k in rows_of(service, tables.license_keys) if k.line_id]) == 3


def test_a_rolled_back_change_is_forgotten(service, pooled_order):
    with service.uow_factory() as uow:
        uow.orders.get(ORDER, lock=True).status = "paid"
        uow.rollback()
        order = uow.orders.get(ORDER, lock=True)
        assert order.status == "not_paid"
        uow.commit()
    assert [o.status for o in rows_of(service, tables.orders)] == ["not_paid"]


def test_the_sources_read_with_a_locked_orders_lines_last_only_as_long_as_its_transaction(service, client,
                                                                                          pooled_order):
    from .conftest import merchant_headers
    place_order(service, "ord_noSourceaaaa", [("line_3aaaaaaaaa", "prod_noSourceaa", 1)])
    with service.uow_factory() as uow:
        with recorded_statements(service.engine) as seen:
            uow.orders.get(ORDER, lock=True)
            uow.orders.get("ord_noSourceaaaa", lock=True)
            pooled, none = uow.sources.for_delivery(POOLED), uow.sources.for_delivery("prod_noSourceaa")
        assert (pooled.method, pooled.merchant_id, none) == ("pool", "mer_7Yb2kQ9xTz", None)
        assert "SELECT license_sources" not in counts(seen)  # they came with the lines
        uow.commit()
        assert client.put(f"/v1/products/{POOLED}/license-source", headers=merchant_headers(),
                          json={"method": "email", "text": "See your account."}).status_code == 200
        with recorded_statements(service.engine) as seen:
            assert uow.sources.for_delivery(POOLED).method == "email"  # read again: a new transaction
        assert counts(seen) == {"SELECT license_sources": 1}


def test_a_pool_comes_locked_with_the_lines_only_for_a_line_about_to_be_started_from_it(service, pooled_order):
    place_order(service, "ord_noSourceaaaa", [("line_3aaaaaaaaa", "prod_noSourceaa", 1)])
    with service.uow_factory() as uow:
        with recorded_statements(service.engine) as seen:
            uow.orders.get(ORDER, lock=True)
            pool = uow.pools.get(POOLED, lock=True)
        assert "SELECT pools" not in counts(seen)
        assert (pool.product_id, pool.merchant_id, pool.low_stock_threshold, pool.alarm_armed) == (
            POOLED, "mer_7Yb2kQ9xTz", 3, True)
        pool.alarm_armed = False  # changed in this transaction: a later read of the lines keeps it
        uow.orders.get("ord_noSourceaaaa", lock=True)
        assert uow.pools.get(POOLED, lock=True) is pool and pool.alarm_armed is False
        uow.commit()
    assert [p.alarm_armed for p in rows_of(service, tables.pools)] == [False]
    pay(service)  # both lines delivered: nothing is left to start from the pool
    with service.uow_factory() as uow:
        uow.orders.get(ORDER, lock=True)
        with recorded_statements(service.engine) as seen:
            assert uow.pools.get(POOLED, lock=True).product_id == POOLED
        assert counts(seen) == {"SELECT pools": 1}


def test_the_pool_read_with_the_lines_is_locked_until_the_transaction_ends(service, pooled_order):
    if service.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks: BEGIN IMMEDIATE makes a transaction the only writer")
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    lock_it = text("SELECT product_id FROM pools WHERE product_id = :p FOR UPDATE NOWAIT")
    with service.uow_factory() as uow:
        uow.orders.get(ORDER, lock=True)
        with service.engine.connect() as other, pytest.raises(OperationalError, match="could not obtain lock"):
            other.execute(lock_it, {"p": POOLED})
        uow.rollback()
    with service.engine.connect() as other:
        assert other.execute(lock_it, {"p": POOLED}).scalar_one() == POOLED
