"""Rows ↔ domain objects for the hot paths that skip the ORM (a locked order, a new order).

An order read whole and changed in a column or two, or written once when it is learned, costs the
ORM's loaders, identity map and unit-of-work flush for nothing: these paths read and write the
tables with Core statements, and the objects are the domain's own classes, detached from any session.
"""
from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from tillkey.payments.adapters import tables as t
from tillkey.payments.domain.model import Order, Payment
from tillkey.payments.domain.refunds import Refund

# Every column is an attribute of the same name on its domain class (tables.start_mappers maps them so).
ORDER_COLUMNS = tuple(c.name for c in t.orders.c)
PAYMENT_COLUMNS = tuple(c.name for c in t.payments.c)
REFUND_COLUMNS = tuple(c.name for c in t.refunds.c)

Values = dict[str, Any]
RowValues = Mapping[Any, Any]  # a row as RowMapping (Result.mappings()), keyed by column names


def order_values(order: Order) -> Values:
    return {name: getattr(order, name) for name in ORDER_COLUMNS}


def payment_values(payment: Payment) -> Values:
    return {name: getattr(payment, name) for name in PAYMENT_COLUMNS}


def refund_values(refund: Refund) -> Values:
    return {name: getattr(refund, name) for name in REFUND_COLUMNS}


def order_from(m: RowValues) -> Order:
    return Order(**{name: m[name] for name in ORDER_COLUMNS})


def payment_from(m: RowValues) -> Payment:
    return Payment(**{name: m[name] for name in PAYMENT_COLUMNS})


def refund_from(m: RowValues) -> Refund:
    return Refund(**{name: m[name] for name in REFUND_COLUMNS})


def kept(values: Values) -> Values:
    """Column values to compare with at commit. JSON values are copied: a change made in place (a
    dict updated) must still show as a change."""
    return {k: copy.deepcopy(v) if isinstance(v, dict | list) else v for k, v in values.items()}


def by_id(values: Iterable[Values], key: str) -> dict[str, Values]:
    return {v[key]: kept(v) for v in values}


def changed(before: Values, after: Values) -> Values:
    return {k: v for k, v in after.items() if before[k] != v}
