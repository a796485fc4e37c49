"""Asking orders who owns a product (docs/architecture.md §6: merchant configuration calls only, never the order
path)."""
from __future__ import annotations

import logging

import requests

from tillkey.fulfillment.domain.errors import Unavailable

log = logging.getLogger(__name__)


class OrdersProductDirectory:
    """`GET {ORDERS_INTERNAL_URL}/v1/products/{id}` with the merchant's own key: orders answers 404
    for a product that is not that merchant's, which is exactly the ownership check we need."""

    def __init__(self, base_url: str, timeout: float = 5.0):
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout

    def product(self, product_id: str, api_key: str) -> dict | None:
        url = f"{self._base_url}/v1/products/{requests.utils.quote(product_id, safe='')}"
        try:
            resp = requests.get(url, headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
                                timeout=self._timeout, allow_redirects=False)
        except requests.RequestException as exc:
            log.warning("orders did not answer a product lookup: %r", exc)
            raise Unavailable("The product catalog is not reachable right now; try again shortly.") from None
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            log.warning("orders answered a product lookup with %s", resp.status_code)
            raise Unavailable("The product catalog could not confirm the product; try again shortly.")
        try:
            answer = resp.json()
        except ValueError:
            raise Unavailable("The product catalog gave an unreadable answer; try again shortly.") from None
        return answer if isinstance(answer, dict) else None
