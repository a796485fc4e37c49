"""The hot paths' domain objects built from rows (adapters/rows.py) as the ORM's loader builds them:
the same objects as the mapped classes' own __init__ gives, without going through it."""
import dataclasses
from datetime import UTC, datetime

import pytest

from tillkey.orders.adapters import rows
from tillkey.orders.adapters import tables as t
from tillkey.orders.domain.carts import Cart, CartLine
from tillkey.orders.domain.catalog import Product
from tillkey.orders.domain.orders import Customer, Order, OrderLine

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(autouse=True)
def mapped():
    t.start_mappers()    # once per process, as bootstrap does


def _order_row(**changes):
    row = {c.name: None for c in t.orders.c}
    row.update(order_id="ord_1", merchant_id="mer_1", cart_id="cart_1", status="not_paid",
               delivery_status="not_delivered", currency="EUR", subtotal=900, discount=0, total=900,
               refunded_amount=0, payment_method="card", custom={"ref": "x"}, created_at=NOW, updated_at=NOW,
               refund_reserved=0, customer_email="a@example.com", customer_first_name="Ada",
               customer_last_name="Byron", customer_country="GB", customer_locale="en")
    return {**row, **changes}


def _line_row(line_id, position):
    return {"line_id": line_id, "order_id": "ord_1", "position": position, "product_id": "prd_1", "name": "P",
            "quantity": 1, "unit_price": 450, "discount": 0, "total": 450, "delivery_status": "pending",
            "delivery_method": None, "licenses": None, "delivery_text": None, "delivered_at": None}


def _fields(obj):
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


@pytest.fixture
def no_init(monkeypatch):
    """The mapped classes' instrumented __init__ (each attribute through the ORM's events) must not run."""
    def refused(self, *args, **kwargs):
        raise AssertionError(f"{type(self).__name__}.__init__ ran")
    for cls in (Order, OrderLine, Cart, CartLine, Product):
        monkeypatch.setattr(cls, "__init__", refused)


def test_an_order_from_rows_is_the_order_its_init_gives(no_init):
    order = rows.order_from_rows(_order_row(), [_line_row("line_1", 0), _line_row("line_2", 1)])
    fields = _fields(order)
    assert fields["customer"] == Customer("a@example.com", "Ada", "Byron", "GB", locale="en")
    assert [line.line_id for line in order.lines] == ["line_1", "line_2"]
    assert fields["status"] == "not_paid" and fields["custom"] == {"ref": "x"}


def test_objects_from_rows_equal_those_of_the_classes_init():
    """Every field of each dataclass is given: a default of the class is never left out."""
    row = _order_row()
    order = rows.order_from_rows(row, [_line_row("line_1", 0)])
    expected = Order(customer=Customer("a@example.com", "Ada", "Byron", "GB", locale="en"),
                     lines=[OrderLine(**{n: v for n, v in _line_row("line_1", 0).items() if n != "order_id"})],
                     **{n: v for n, v in row.items() if not n.startswith("customer_")})
    got, want = _fields(order), _fields(expected)
    assert [_fields(x) for x in got.pop("lines")] == [_fields(x) for x in want.pop("lines")]
    assert got == want

    product = {"product_id": "prd_1", "merchant_id": "mer_1", "name": "P", "prices": {"EUR": 450},
               "default_currency": "EUR", "created_at": NOW, "updated_at": NOW, "active": False}
    product_row = {c: product[c.name] for c in t.products.c}     # keyed by Column, as a join gives it
    assert _fields(rows.product_from(product_row)) == _fields(Product(**product))

    cart_row = {c.name: None for c in t.carts.c} | {"cart_id": "cart_1", "merchant_id": "mer_1", "currency": "EUR",
                                                  "created_at": NOW, "updated_at": NOW, "custom": {}}
    cl = t.cart_lines.c
    cart = rows.cart_from_rows(cart_row, [{cl.line_id: "cl_1", cl.product_id: "prd_1", cl.quantity: 2,
                                           cl.position: 0}])
    want_cart = Cart(**{**cart_row, "lines": [CartLine("cl_1", "prd_1", 2, 0)]})
    got_cart, want_cart_fields = _fields(cart), _fields(want_cart)
    assert [_fields(x) for x in got_cart.pop("lines")] == [_fields(x) for x in want_cart_fields.pop("lines")]
    assert got_cart == want_cart_fields


def test_a_change_to_an_order_from_rows_is_one_write_changes_sees(no_init):
    order = rows.order_from_rows(_order_row(), [_line_row("line_1", 0)])
    before, lines_before = rows.snapshot(order)
    later = NOW.replace(hour=4)
    assert order.mark_paid(later, method="paypal")
    order.lines[0].licenses = ["K-1"]
    after, lines_after = rows.snapshot(order)
    assert rows.changed(before, after) == {"status": "paid", "payment_method": "paypal", "paid_at": later,
                                           "updated_at": later}
    assert rows.changed(lines_before["line_1"], lines_after["line_1"]) == {"licenses": ["K-1"]}
