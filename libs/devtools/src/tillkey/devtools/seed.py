"""The demo merchant of `make run`: merchant, product with a pool of 100 demo keys, webhook endpoint —
created once, then reused."""
from __future__ import annotations

import json
import secrets
from pathlib import Path

import requests

from tillkey.devtools.topology import PlatformConfig


def _call(method: str, url: str, token: str, body: dict | None = None) -> dict:
    resp = requests.request(method, url, json=body, timeout=10, headers={"Authorization": f"Bearer {token}"})
    if resp.status_code >= 400:
        raise RuntimeError(f"{method} {url} answered {resp.status_code}: {resp.text[:500]}")
    return resp.json() if resp.content else {}


def seed_demo(config: PlatformConfig) -> dict:
    state_file: Path = config.data_dir / "demo.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    orders, webhooks = config.url("orders"), config.url("webhooks")
    if "api_key" not in state:
        merchant = _call("POST", f"{orders}/v1/merchants", config.admin_token,
                         {"name": "Demo Software GmbH", "email": "merchant@demo.example"})
        state.update(merchant_id=merchant["merchant_id"], api_key=merchant["api_key"])
        state_file.write_text(json.dumps(state, indent=2))
    key = state["api_key"]
    if "dashboard_password" not in state:
        # The demo merchant's dashboard user; a fresh password per data folder, shown in the banner.
        password = secrets.token_urlsafe(12)
        _call("POST", f"{config.url('dashboard')}/admin/v1/merchant-users", config.admin_token, {
            "api_key": key, "email": "merchant@demo.example", "password": password,
            "merchant_name": "Demo Software GmbH"})
        state.update(dashboard_email="merchant@demo.example", dashboard_password=password)
        state_file.write_text(json.dumps(state, indent=2))
    if "product_id" not in state:
        product = _call("POST", f"{orders}/v1/products", key, {
            "name": "Demo Editor Pro", "prices": {"EUR": 4900, "USD": 5400, "JPY": 7800}, "default_currency": "EUR"})
        state.update(product_id=product["product_id"], checkout_url=product["checkout_url"])
        state_file.write_text(json.dumps(state, indent=2))
    if "pool_seeded" not in state:
        # A pool of demo keys, so a demo purchase ends with a license in the customer's email.
        fulfillment = config.url("fulfillment")
        product_id = state["product_id"]
        _call("PUT", f"{fulfillment}/v1/products/{product_id}/license-source", key,
              {"method": "pool", "low_stock_threshold": 5})
        _call("POST", f"{fulfillment}/v1/products/{product_id}/licenses", key,
              {"keys": [f"DEMO-{product_id[-6:].upper()}-{i:04d}" for i in range(1, 101)]})
        state.update(pool_seeded=True)
        state_file.write_text(json.dumps(state, indent=2))
    if "endpoint_id" not in state:
        endpoint = _call("POST", f"{webhooks}/v1/webhook-endpoints", key, {
            "url": f"{config.url('demo_receiver')}/webhooks", "events": ["*"],
            "description": "demo receiver started by make run"})
        (config.data_dir / "demo-webhook-secret").write_text(endpoint["secret"])
        state.update(endpoint_id=endpoint["endpoint_id"])
        state_file.write_text(json.dumps(state, indent=2))
    return state
