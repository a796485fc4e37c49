"""Rows ↔ domain objects for the hot paths that skip the ORM (checkout, the worker's handlers).

An order read whole and changed in a few columns, or written once when placed, costs the ORM's
loaders, identity map and unit-of-work flush for nothing: these paths read and write the tables
with Core statements, and the objects are the domain's own classes, detached from any session.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from sqlalchemy.orm import instrumentation

from tillkey.orders.adapters import tables as t
from tillkey.orders.domain.carts import Cart, CartLine
from tillkey.orders.domain.catalog import Product
from tillkey.orders.domain.orders import Order, OrderLine
from tillkey.platform.rows import RowValues, Values, changed, column_names, kept, values_of

__all__ = ["CUSTOMER_COLUMNS", "RowValues", "Values", "built", "cart_from_rows", "cart_line_values", "cart_values",
           "changed", "line_from", "line_values", "lines_snapshot", "order_from_rows", "order_snapshot", "order_values",
           "product_from", "snapshot"]

T = TypeVar("T")

# The customer composite's columns, in the order of Customer's fields (as tables.start_mappers maps it).
CUSTOMER_COLUMNS = ("customer_email", "customer_first_name", "customer_last_name", "customer_country",
                    "customer_company", "customer_vat_id", "customer_locale")
_ORDER_ATTRS = column_names(t.orders, without=CUSTOMER_COLUMNS)
_ORDER_COLUMNS = column_names(t.orders)
_LINE_ATTRS = column_names(t.order_lines, without=("order_id",))   # the parent's key, not a field
_PRODUCT_COLUMNS = tuple(t.products.c)
_CART_ATTRS = column_names(t.carts)
_CART_LINE_ATTRS = column_names(t.cart_lines, without=("cart_id",))


def built(cls: type[T], values: Values) -> T:
    """An object of a mapped domain class with these attributes, built as the ORM's loader builds
    one: its instance state, then the values put in its __dict__. The class's own __init__, which
    the mapping instruments, sets each attribute through the ORM's events: ~80 µs for an order
    against ~3 µs here, a few per order on the API's and the worker's hot paths. `values` names
    every field of the dataclass (an order: its customer's columns), as no default is applied here
    (tests/integration/test_rows.py).
    The object is transient and stays out of the session, as the Core paths' objects always were;
    a change to it goes through the instrumented attributes as before (write_changes compares)."""
    obj: T = instrumentation.manager_of_class(cls).new_instance()
    obj.__dict__.update(values)
    return obj


def order_from_rows(m: RowValues, line_rows: Iterable[RowValues]) -> Order:
    # The customer composite is built from its columns when first read, as for an order the ORM loads.
    values = {name: m[name] for name in _ORDER_COLUMNS}
    values["lines"] = [line_from(line) for line in line_rows]
    return built(Order, values)


def line_from(m: RowValues) -> OrderLine:
    return built(OrderLine, {name: m[name] for name in _LINE_ATTRS})


def order_values(order: Order) -> Values:
    values = values_of(order, _ORDER_ATTRS)
    c = order.customer
    values.update(zip(CUSTOMER_COLUMNS, (c.email, c.first_name, c.last_name, c.country, c.company, c.vat_id,
                                         c.locale), strict=True))
    return values


def line_values(order_id: str, line: OrderLine) -> Values:
    return {"order_id": order_id, **values_of(line, _LINE_ATTRS)}


def snapshot(order: Order) -> tuple[Values, dict[str, Values]]:
    """The order's column values now, to compare with at commit (`changed`)."""
    return order_snapshot(order), lines_snapshot(order)


def order_snapshot(order: Order) -> Values:
    """The order's own column values now (its lines apart: `lines_snapshot`)."""
    return kept(order_values(order))


def lines_snapshot(order: Order) -> dict[str, Values]:
    """Its lines' column values now, by line id (read after the order, when a handler needs them)."""
    return {line.line_id: kept(line_values(order.order_id, line)) for line in order.lines}


def product_from(m: RowValues) -> Product:
    """A product from the products columns of a row (keyed by the Column objects: joins repeat names)."""
    return built(Product, {column.name: m[column] for column in _PRODUCT_COLUMNS})


def cart_from_rows(m: RowValues, line_rows: Iterable[RowValues]) -> Cart:
    cl = t.cart_lines.c     # Column keys: the lines come joined with their products (two product_id)
    values = {name: m[name] for name in _CART_ATTRS}
    values["lines"] = [built(CartLine, {"line_id": line[cl.line_id], "product_id": line[cl.product_id],
                                        "quantity": line[cl.quantity], "position": line[cl.position]})
                       for line in line_rows]
    return built(Cart, values)


def cart_values(cart: Cart) -> Values:
    return values_of(cart, _CART_ATTRS)


def cart_line_values(cart_id: str, line: CartLine) -> Values:
    return {"cart_id": cart_id, **values_of(line, _CART_LINE_ATTRS)}
