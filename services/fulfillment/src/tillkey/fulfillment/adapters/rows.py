"""Rows ↔ domain objects for the hot paths that skip the ORM (a new order, a locked order).

An order written once when it is learned, or read whole and changed in a column or two when it is
paid, costs the ORM's loaders, identity map and unit-of-work flush for nothing: these paths read
and write the tables with Core statements, and the objects are the domain's own classes, detached
from any session (the shared moves are tillkey.platform.rows).
"""
from __future__ import annotations

from tillkey.fulfillment.adapters import tables as t
from tillkey.fulfillment.domain.model import Delivery, Order
from tillkey.fulfillment.domain.sources import LicenseSource
from tillkey.platform.rows import RowValues, Values, changed, column_names, from_row, kept, values_of

__all__ = ["DELIVERY_COLUMNS", "ORDER_COLUMNS", "POOL_COLUMNS", "SOURCE_LABELS", "RowValues", "Values", "changed",
           "delivery_from", "delivery_values", "kept", "order_from", "order_values", "pool_values", "source_from"]

ORDER_COLUMNS = column_names(t.orders)
DELIVERY_COLUMNS = column_names(t.deliveries)
SOURCE_COLUMNS = column_names(t.license_sources)
POOL_COLUMNS = column_names(t.pools)
# A line's license source, read in the line's row (a LEFT JOIN): its columns under names of their own.
SOURCE_LABELS = tuple(t.license_sources.c[name].label(f"source_{name}") for name in SOURCE_COLUMNS)


def order_values(order: Order) -> Values:
    return values_of(order, ORDER_COLUMNS)


def delivery_values(delivery: Delivery) -> Values:
    return values_of(delivery, DELIVERY_COLUMNS)


def order_from(m: RowValues) -> Order:
    return from_row(Order, m, ORDER_COLUMNS)


def delivery_from(m: RowValues) -> Delivery:
    return from_row(Delivery, m, DELIVERY_COLUMNS)


def source_from(m: RowValues) -> LicenseSource | None:
    """The source in a line's row (SOURCE_LABELS); None when the product has none (manual)."""
    if m["source_product_id"] is None:
        return None
    return LicenseSource(**{name: m[f"source_{name}"] for name in SOURCE_COLUMNS})


def pool_values(m: RowValues) -> Values | None:
    """The pool in a line's row (its columns labelled `pool_<name>`); None when none came with it."""
    if m["pool_product_id"] is None:
        return None
    return {name: m[f"pool_{name}"] for name in POOL_COLUMNS}
