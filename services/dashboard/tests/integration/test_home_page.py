"""The merchant home over the fake APIs: the totals, both charts as SVG, pools at low stock."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tillkey.platform.clock import FixedClock

from .conftest import create_user, sign_in

pytestmark = pytest.mark.integration


def test_the_home_shows_30_days_of_orders_and_revenue_and_the_pools_stock(make_app, api):
    app = make_app()
    app.extensions["tillkey.dashboard"].clock = FixedClock(datetime(2026, 3, 31, 12, tzinfo=UTC))
    api.answers[("orders", "GET", "/v1/orders")] = {"data": [
        {"order_id": "ord_2", "status": "paid", "currency": "EUR", "total": 4900, "refunded_amount": 0,
         "created_at": "2026-03-31T09:00:00Z", "paid_at": "2026-03-31T09:01:00Z"},
        {"order_id": "ord_1", "status": "not_paid", "currency": "EUR", "total": 4900, "refunded_amount": 0,
         "created_at": "2026-03-30T09:00:00Z", "paid_at": None},
        {"order_id": "ord_0", "status": "paid", "currency": "EUR", "total": 100, "refunded_amount": 0,
         "created_at": "2026-01-01T09:00:00Z", "paid_at": "2026-01-01T09:01:00Z"}], "next_cursor": "more"}
    api.answers[("orders", "GET", "/v1/products")] = {"data": [{"product_id": "prod_1", "name": "Pro"}]}
    api.answers[("fulfillment", "GET", "/v1/products/prod_1/license-source")] = {"method": "pool",
                                                                                  "low_stock_threshold": 5}
    api.answers[("fulfillment", "GET", "/v1/products/prod_1/licenses/stats")] = {"available": 3, "issued": 9}
    client = app.test_client()
    create_user(client)
    sign_in(client)
    html = client.get("/").get_data(as_text=True)
    assert 'id="orders-total">2<' in html and "€49.00" in html
    assert html.count("<svg") == 2 and "2026-03-31: €49.00" in html
    assert "3 in stock" in html and "low-stock threshold (5)" in html
    # The page before ord_0 ended the reading: older orders are not fetched.
    assert len([c for c in api.calls if c[2] == "/v1/orders"]) == 1
