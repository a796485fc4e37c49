"""Rows ↔ domain objects for the hot paths that skip the ORM (a locked order, a new order).

An order read whole and changed in a column or two, or written once when it is learned, costs the
ORM's loaders, identity map and unit-of-work flush for nothing: these paths read and write the
tables with Core statements, and the objects are the domain's own classes, detached from any session
(the shared moves are tillkey.platform.rows).
"""
from __future__ import annotations

from tillkey.payments.adapters import tables as t
from tillkey.payments.domain.model import Order, Payment
from tillkey.payments.domain.refunds import Refund
from tillkey.platform.rows import RowValues, Values, changed, column_names, from_row, kept, values_of

__all__ = ["RowValues", "Values", "changed", "kept", "order_from", "order_values", "payment_from",
           "payment_values", "refund_from", "refund_values"]

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
    return from_row(Order, m, ORDER_COLUMNS)


def payment_from(m: RowValues) -> Payment:
    return from_row(Payment, m, PAYMENT_COLUMNS)


def refund_from(m: RowValues) -> Refund:
    return from_row(Refund, m, REFUND_COLUMNS)
