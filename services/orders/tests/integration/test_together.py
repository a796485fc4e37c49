"""A row and its lines in one statement on PostgreSQL (adapters/together.py) store exactly what
`insert(table)` and an executemany, or an `update(table)` per row, store."""
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text, update

from tillkey.orders.adapters import tables, together
from tillkey.orders.adapters.together import insert_with_children
from tillkey.testing.statements import counted, recorded_statements

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _order(order_id):
    return {"order_id": order_id, "merchant_id": "mer_1", "cart_id": f"cart_{order_id}", "status": "not_paid",
            "delivery_status": "not_delivered", "currency": "EUR", "subtotal": 9800, "discount": 0, "total": 9800,
            "refunded_amount": 0, "payment_method": "card", "coupon_code": None, "customer_email": "a@b.example",
            "customer_first_name": "Ada", "customer_last_name": "L", "customer_country": "GB",
            "customer_company": None, "customer_vat_id": None, "customer_locale": "en", "custom": {"ref": "A-1"},
            "created_at": NOW, "updated_at": NOW, "paid_at": None, "delivered_at": None, "refund_reserved": 0,
            "reminder_sent_at": None, "canceled_at": None, "cancel_reason": None, "deleted_at": None,
            "last_payment_failure": None, "licenses_resent_at": None}


def _lines(order_id, count):
    return [{"line_id": f"line_{order_id}_{i}", "order_id": order_id, "position": i + 1, "product_id": f"prod_{i}",
             "name": f"P{i}", "quantity": i + 1, "unit_price": 4900, "discount": 0, "total": 4900 * (i + 1),
             "delivery_status": "pending", "delivery_method": None, "licenses": None, "delivery_text": None,
             "delivered_at": None} for i in range(count)]


def _stored(conn, order_id):
    order = conn.execute(select(tables.orders).where(tables.orders.c.order_id == order_id)).mappings().one()
    lines = conn.execute(select(tables.order_lines).where(tables.order_lines.c.order_id == order_id)
                         .order_by(tables.order_lines.c.position)).mappings().all()
    # JSON None: JSON null or SQL NULL, as stored (the plain INSERT's choice must be kept).
    nulls = conn.execute(text("SELECT licenses IS NULL FROM order_lines WHERE order_id = :o ORDER BY position"),
                         {"o": order_id}).scalars().all()
    return dict(order), [dict(line) for line in lines], nulls


def test_one_statement_stores_what_two_store(service):
    engine = service.engine
    with engine.begin() as conn:
        conn.execute(tables.orders.insert(), _order("ord_plain"))
        conn.execute(tables.order_lines.insert(), _lines("ord_plain", 3))
    for n, count in enumerate((3, 1, 3)):      # the statement for 3 lines is built once, and used again
        with recorded_statements(engine) as s, engine.begin() as conn:
            insert_with_children(conn, tables.orders, _order(f"ord_{n}"), tables.order_lines,
                                 _lines(f"ord_{n}", count))
        expected = {"WITH orders": 1} if engine.dialect.name == "postgresql" else {
            "INSERT orders": 1, "INSERT order_lines": 1}
        assert counted(s) == expected
    with engine.connect() as conn:
        plain_order, plain_lines, plain_nulls = _stored(conn, "ord_plain")
        order, lines, nulls = _stored(conn, "ord_0")
        assert len(_stored(conn, "ord_1")[1]) == 1 and len(_stored(conn, "ord_2")[1]) == 3
    assert {**order, "order_id": "ord_plain", "cart_id": "cart_ord_plain"} == plain_order
    renamed = [{**line, "line_id": plain["line_id"], "order_id": "ord_plain"}
               for line, plain in zip(lines, plain_lines, strict=True)]
    assert renamed == plain_lines
    assert nulls == plain_nulls and order["created_at"] == NOW and order["custom"] == {"ref": "A-1"}


def test_one_update_of_an_order_and_its_lines_stores_what_several_store(service):
    engine = service.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no data-modifying WITH: the repository writes row by row there")
    with engine.begin() as conn:
        for order_id in ("ord_rows", "ord_one"):
            conn.execute(tables.orders.insert(), _order(order_id))
            conn.execute(tables.order_lines.insert(), _lines(order_id, 2))
    later = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    changes = {"delivery_status": "delivered", "delivered_at": later, "updated_at": later,
               "last_payment_failure": None}
    line = {"delivery_status": "delivered", "delivery_method": "text", "licenses": ["K-1", "K-2"],
            "delivery_text": None, "delivered_at": later}
    o, ln = tables.orders.c, tables.order_lines.c
    with engine.begin() as conn:
        conn.execute(update(tables.orders).where(o.order_id == "ord_rows").values(changes))
        for i in range(2):
            conn.execute(update(tables.order_lines).where(ln.line_id == f"line_ord_rows_{i}").values(line))
    with recorded_statements(engine) as s, engine.begin() as conn:
        together.update_with_children(conn, tables.orders, "ord_one", changes, tables.order_lines,
                                      [(f"line_ord_one_{i}", line) for i in range(2)])
    assert counted(s) == {"WITH orders": 1}
    with engine.connect() as conn:
        rows_order, rows_lines, _ = _stored(conn, "ord_rows")
        one_order, one_lines, _ = _stored(conn, "ord_one")
        json_nulls = [conn.execute(text("SELECT last_payment_failure IS NULL FROM orders WHERE order_id = :o"),
                                   {"o": order_id}).scalar_one() for order_id in ("ord_rows", "ord_one")]
    assert {**one_order, "order_id": "ord_rows", "cart_id": "cart_ord_rows"} == rows_order
    assert [{**line, "line_id": r["line_id"], "order_id": "ord_rows"}
            for line, r in zip(one_lines, rows_lines, strict=True)] == rows_lines
    assert one_lines[1]["licenses"] == ["K-1", "K-2"] and json_nulls[0] == json_nulls[1]
