"""Rows ↔ domain objects for the hot paths that skip the ORM (checkout, the worker's handlers).

An order read whole and changed in a few columns, or written once when placed, costs the ORM's
loaders, identity map and unit-of-work flush for nothing: these paths read and write the tables
with Core statements, and the objects are the domain's own classes, detached from any session.
"""
from __future__ import annotations

from collections.abc import Iterable

from tillkey.orders.adapters import tables as t
from tillkey.orders.domain.carts import Cart, CartLine
from tillkey.orders.domain.catalog import Product
from tillkey.orders.domain.orders import Customer, Order, OrderLine
from tillkey.platform.rows import RowValues, Values, changed, column_names, from_row, kept, values_of

__all__ = ["CUSTOMER_COLUMNS", "RowValues", "Values", "cart_from_rows", "cart_line_values", "cart_values", "changed",
           "line_from", "line_values", "lines_snapshot", "order_from_rows", "order_snapshot", "order_values",
           "product_from", "snapshot"]

# The customer composite's columns, in the order of Customer's fields (as tables.start_mappers maps it).
CUSTOMER_COLUMNS = ("customer_email", "customer_first_name", "customer_last_name", "customer_country",
                    "customer_company", "customer_vat_id", "customer_locale")
_ORDER_ATTRS = column_names(t.orders, without=CUSTOMER_COLUMNS)
_LINE_ATTRS = column_names(t.order_lines, without=("order_id",))   # the parent's key, not a field
_PRODUCT_COLUMNS = tuple(t.products.c)
_CART_ATTRS = column_names(t.carts)
_CART_LINE_ATTRS = column_names(t.cart_lines, without=("cart_id",))


def order_from_rows(m: RowValues, line_rows: Iterable[RowValues]) -> Order:
    lines = [line_from(line) for line in line_rows]
    return Order(customer=Customer(*(m[name] for name in CUSTOMER_COLUMNS)), lines=lines,
                 **{name: m[name] for name in _ORDER_ATTRS})


def line_from(m: RowValues) -> OrderLine:
    return from_row(OrderLine, m, _LINE_ATTRS)


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
    return Product(**{column.name: m[column] for column in _PRODUCT_COLUMNS})


def cart_from_rows(m: RowValues, line_rows: Iterable[RowValues]) -> Cart:
    cl = t.cart_lines.c     # Column keys: the lines come joined with their products (two product_id)
    lines = [CartLine(line[cl.line_id], line[cl.product_id], line[cl.quantity], line[cl.position])
             for line in line_rows]
    return Cart(lines=lines, **{name: m[name] for name in _CART_ATTRS})


def cart_values(cart: Cart) -> Values:
    return values_of(cart, _CART_ATTRS)


def cart_line_values(cart_id: str, line: CartLine) -> Values:
    return {"cart_id": cart_id, **values_of(line, _CART_LINE_ATTRS)}
