"""The merchant home: the last 30 days from the orders API, and the pools' stock from fulfillment."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tillkey.dashboard.domain import charts
from tillkey.dashboard.service_layer.errors import NotFound, Unavailable
from tillkey.dashboard.service_layer.ports import PlatformApi

MAX_PAGES = 10            # 2,000 orders: past that the home says it counted only the latest
POOL_PRODUCTS = 20        # stock shown for the newest products (two calls each)


def recent_orders(api: PlatformApi, key: str, today: date) -> tuple[list[dict[str, Any]], bool]:
    """Orders created in the last 30 days (newest first), and whether there were more than counted."""
    since = (today - timedelta(days=charts.DAYS - 1)).isoformat()
    found: list[dict[str, Any]] = []
    cursor = None
    for _ in range(MAX_PAGES):
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = api.call("orders", "GET", "/v1/orders", key, params=params)
        for order in page.get("data", []):
            if (order.get("created_at") or "")[:10] < since:
                return found, False
            found.append(order)
        cursor = page.get("next_cursor")
        if not cursor:
            return found, False
    return found, True


def pool_stock(api: PlatformApi, key: str) -> list[dict[str, Any]]:
    """[{name, available, threshold}] for the newest products that deliver from a pool."""
    stock = []
    products = api.call("orders", "GET", "/v1/products", key, params={"limit": POOL_PRODUCTS}).get("data", [])
    for product in products:
        try:
            source = api.call("fulfillment", "GET", f"/v1/products/{product['product_id']}/license-source", key)
            if source.get("method") != "pool":
                continue
            stats = api.call("fulfillment", "GET", f"/v1/products/{product['product_id']}/licenses/stats", key)
        except (NotFound, Unavailable):
            continue
        stock.append({"name": product["name"], "product_id": product["product_id"],
                      "available": stats.get("available", 0), "threshold": source.get("low_stock_threshold", 0)})
    return stock


def home(api: PlatformApi, key: str, today: date) -> dict[str, Any]:
    orders, truncated = recent_orders(api, key, today)
    currency = charts.main_currency(orders)
    days = charts.daily(orders, today, currency)
    return {
        "currency": currency, "days": days, "truncated": truncated,
        "revenue_bars": charts.bars([(d.day.isoformat(), d.revenue) for d in days]),
        "order_bars": charts.bars([(d.day.isoformat(), d.orders) for d in days]),
        "revenue_total": sum(d.revenue for d in days), "orders_total": sum(d.orders for d in days),
        "other_currencies": sorted({o["currency"] for o in orders if o.get("status") in charts.COUNTED} - {currency}),
        "stock": pool_stock(api, key),
    }
