"""Rows ↔ domain objects for the hot paths that skip the ORM (a locked order, a new order).

An order read whole and changed in a column or two, or written once when it is learned, costs the
ORM's loaders, identity map and unit-of-work flush for nothing: these paths read and write the
tables with Core statements, and the objects are the domain's own classes, detached from any session
(the shared moves are tillkey.platform.rows).
"""
from __future__ import annotations

from typing import TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import configure_mappers

from tillkey.payments.adapters import tables as t
from tillkey.payments.domain.model import Order, Payment
from tillkey.payments.domain.refunds import Refund
from tillkey.platform.rows import RowValues, Values, changed, column_names, kept, values_of

T = TypeVar("T")

__all__ = ["JOINED_PAYMENT_PREFIX", "ORDER_COLUMNS", "RowValues", "Values", "changed", "joined_payment", "kept",
           "order_from", "order_values", "payment_from", "payment_values", "refund_from", "refund_values"]

ORDER_COLUMNS = column_names(t.orders)
PAYMENT_COLUMNS = column_names(t.payments)
REFUND_COLUMNS = column_names(t.refunds)


def order_values(order: Order) -> Values:
    return values_of(order, ORDER_COLUMNS)


def payment_values(payment: Payment) -> Values:
    return values_of(payment, PAYMENT_COLUMNS)


def refund_values(refund: Refund) -> Values:
    return values_of(refund, REFUND_COLUMNS)


def order_from(m: RowValues) -> Order:
    """Without its payments and refunds: repositories.Orders sets the locked order's own."""
    return _detached(Order, {name: m[name] for name in ORDER_COLUMNS})


def payment_from(m: RowValues) -> Payment:
    return _detached(Payment, {name: m[name] for name in PAYMENT_COLUMNS})


# A payment's columns read beside its order's (SQLite's locking read, repositories.Orders._lock) carry
# this prefix, as the orders' and the payments' tables share column names.
JOINED_PAYMENT_PREFIX = "p_"


def joined_payment(m: RowValues) -> Values:
    """A payment's values from a row of its order joined with it."""
    return {name: m[JOINED_PAYMENT_PREFIX + name] for name in PAYMENT_COLUMNS}


def refund_from(m: RowValues) -> Refund:
    return _detached(Refund, {name: m[name] for name in REFUND_COLUMNS})


def _detached(cls: type[T], values: Values) -> T:
    """`cls(**values)` without the instrumented __init__ the ORM gives a class it maps
    (tables.start_mappers): that one sets each attribute through the ORM's events and builds the
    relationships' collections, some 25 times the cost (an Order's ~130 µs, a Payment's ~70, against
    ~5), twice per order on the pay path. The object is transient, as after __init__, its values
    put into its __dict__ as the ORM's own loading puts them. `values` names every field of `cls`
    but its relationships."""
    mapper = inspect(cls, raiseerr=False)
    if mapper is None:  # not mapped in this process: a plain dataclass
        return cls(**values)
    if not mapper.configured:
        # The ORM configures its mappers (the attributes' implementations) on a first __init__ or
        # query; an order locked before either, as a fresh process's first request, skips both.
        configure_mappers()
    instance = mapper.class_manager.new_instance()
    instance.__dict__.update(values)
    return instance
