"""The fulfillment worker's gauges, read when scraped: license pools at or below their low-stock threshold."""
from __future__ import annotations

from sqlalchemy import and_, func, select

from tillkey.fulfillment.adapters import tables
from tillkey.platform.gauges import query_gauge

p, k = tables.pools, tables.license_keys


def collectors(session_factory) -> list:
    # Only the low pools get a series (a product per series would grow with the catalog); the free
    # keys are counted on ix_license_keys_free (product_id, line_id).
    free = func.count(k.c.seq)
    low = (select(p.c.product_id, p.c.merchant_id, free)
           .select_from(p.outerjoin(k, and_(k.c.product_id == p.c.product_id, k.c.line_id.is_(None))))
           .group_by(p.c.product_id, p.c.merchant_id, p.c.low_stock_threshold)
           .having(free <= p.c.low_stock_threshold))
    return [query_gauge("tillkey_license_pool_low_available", "Keys left in a license pool at or below its "
                        "low-stock threshold (only such pools are listed)", ["product_id", "merchant_id"],
                        session_factory, lambda: low)]
