"""The fulfillment worker's scrape-time gauge: pools at or below their low-stock threshold (SQLite, PostgreSQL)."""
from __future__ import annotations

import pytest

from tillkey.fulfillment.adapters import gauges
from tillkey.platform.metrics import exposition

from .conftest import MERCHANT, know_product, merchant_headers

pytestmark = pytest.mark.integration


def pool(client, service, product_id, threshold, keys):
    know_product(service, product_id)
    resp = client.put(f"/v1/products/{product_id}/license-source", headers=merchant_headers(),
                      json={"method": "pool", "low_stock_threshold": threshold})
    assert resp.status_code == 200, resp.get_json()
    if keys:
        resp = client.post(f"/v1/products/{product_id}/licenses", json={"keys": keys}, headers=merchant_headers())
        assert resp.status_code == 201, resp.get_json()


def test_only_low_pools_are_reported_with_their_stock(client, service):
    pool(client, service, "prod_low1", threshold=3, keys=["A-1", "A-2"])
    pool(client, service, "prod_empty1", threshold=0, keys=[])
    pool(client, service, "prod_plenty1", threshold=1, keys=["B-1", "B-2", "B-3"])
    text = exposition(gauges.collectors(service.session_factory), multiprocess=False).decode()
    lines = [line for line in text.splitlines() if line.startswith("tillkey_license_pool_low_available{")]
    assert sorted(lines) == sorted([
        f'tillkey_license_pool_low_available{{merchant_id="{MERCHANT}",product_id="prod_empty1"}} 0.0',
        f'tillkey_license_pool_low_available{{merchant_id="{MERCHANT}",product_id="prod_low1"}} 2.0',
    ])
