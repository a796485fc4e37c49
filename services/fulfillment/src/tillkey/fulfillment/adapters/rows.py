"""Rows ↔ domain objects for the hot paths that skip the ORM (a new order, a locked order).

An order written once when it is learned, or read whole and changed in a column or two when it is
paid, costs the ORM's loaders, identity map and unit-of-work flush for nothing: these paths read
and write the tables with Core statements, and the objects are the domain's own classes, detached
from any session.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from tillkey.fulfillment.adapters import tables as t
from tillkey.fulfillment.domain.model import Delivery, Order

# Every column is an attribute of the same name on its domain class (tables.start_mappers maps them so).
ORDER_COLUMNS = tuple(c.name for c in t.orders.c)
DELIVERY_COLUMNS = tuple(c.name for c in t.deliveries.c)

Values = dict[str, Any]
RowValues = Mapping[Any, Any]  # a row as RowMapping (Result.mappings()), keyed by column names


def order_values(order: Order) -> Values:
    return {name: getattr(order, name) for name in ORDER_COLUMNS}


def delivery_values(delivery: Delivery) -> Values:
    return {name: getattr(delivery, name) for name in DELIVERY_COLUMNS}


def order_from(m: RowValues) -> Order:
    return Order(**{name: m[name] for name in ORDER_COLUMNS})


def delivery_from(m: RowValues) -> Delivery:
    return Delivery(**{name: m[name] for name in DELIVERY_COLUMNS})


def kept(values: Values) -> Values:
    """Column values to compare with at commit. JSON values are copied: a change made in place (a
    list appended to) must still show as a change."""
    return {k: copy.deepcopy(v) if isinstance(v, dict | list) else v for k, v in values.items()}


def changed(before: Values, after: Values) -> Values:
    return {k: v for k, v in after.items() if before[k] != v}
