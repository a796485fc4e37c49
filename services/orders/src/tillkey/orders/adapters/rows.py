"""Rows ↔ domain objects for the hot paths that skip the ORM (checkout, the worker's handlers).

An order read whole and changed in a few columns, or written once when placed, costs the ORM's
loaders, identity map and unit-of-work flush for nothing: these paths read and write the tables
with Core statements, and the objects are the domain's own classes, detached from any session.
"""
from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from tillkey.orders.adapters import tables as t
from tillkey.orders.domain.carts import Cart, CartLine
from tillkey.orders.domain.catalog import Product
from tillkey.orders.domain.orders import Customer, Order, OrderLine

# The customer composite's columns, in the order of Customer's fields (as tables.start_mappers maps it).
CUSTOMER_COLUMNS = ("customer_email", "customer_first_name", "customer_last_name", "customer_country",
                    "customer_company", "customer_vat_id", "customer_locale")
_ORDER_ATTRS = tuple(c.name for c in t.orders.c if c.name not in CUSTOMER_COLUMNS)
_LINE_ATTRS = tuple(c.name for c in t.order_lines.c if c.name != "order_id")   # the parent's key, not a field
_PRODUCT_COLUMNS = tuple(t.products.c)
_CART_ATTRS = tuple(c.name for c in t.carts.c)

Values = dict[str, Any]
# A row as RowMapping (Result.mappings()): keyed by column names, or by Column objects where a join repeats a name.
RowValues = Mapping[Any, Any]


def order_from_rows(m: RowValues, line_rows: Iterable[RowValues]) -> Order:
    lines = [OrderLine(**{name: line[name] for name in _LINE_ATTRS}) for line in line_rows]
    return Order(customer=Customer(*(m[name] for name in CUSTOMER_COLUMNS)), lines=lines,
                 **{name: m[name] for name in _ORDER_ATTRS})


def order_values(order: Order) -> Values:
    values = {name: getattr(order, name) for name in _ORDER_ATTRS}
    c = order.customer
    values.update(zip(CUSTOMER_COLUMNS, (c.email, c.first_name, c.last_name, c.country, c.company, c.vat_id,
                                         c.locale), strict=True))
    return values


def line_values(order_id: str, line: OrderLine) -> Values:
    return {"order_id": order_id, **{name: getattr(line, name) for name in _LINE_ATTRS}}


def snapshot(order: Order) -> tuple[Values, dict[str, Values]]:
    """The order's column values now, to compare with at commit. JSON values are copied: a change
    made in place (a list appended to) must still show as a change."""
    def kept(values: Values) -> Values:
        return {k: copy.deepcopy(v) if isinstance(v, dict | list) else v for k, v in values.items()}
    return (kept(order_values(order)),
            {line.line_id: kept(line_values(order.order_id, line)) for line in order.lines})


def changed(before: Values, after: Values) -> Values:
    return {k: v for k, v in after.items() if before[k] != v}


def product_from(m: RowValues) -> Product:
    """A product from the products columns of a row (keyed by the Column objects: joins repeat names)."""
    return Product(**{column.name: m[column] for column in _PRODUCT_COLUMNS})


def cart_from_rows(m: RowValues, line_rows: Iterable[RowValues]) -> Cart:
    cl = t.cart_lines.c     # Column keys: the lines come joined with their products (two product_id)
    lines = [CartLine(line[cl.line_id], line[cl.product_id], line[cl.quantity], line[cl.position])
             for line in line_rows]
    return Cart(lines=lines, **{name: m[name] for name in _CART_ATTRS})
