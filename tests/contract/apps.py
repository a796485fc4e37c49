"""Each service's real app on a fresh SQLite database, seeded so the fuzzed calls find things to work on,
with the credential each operation's document names."""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from tillkey.platform.runner import migrate, migrations_home

ADMIN, SECRET = "contract-admin-token", "contract-platform-secret"
SERVICES = ("orders", "payments", "fulfillment", "notifications", "webhooks")


@dataclass
class ServiceApp:
    app: Flask
    headers_for: Callable[[str], dict[str, str]]   # the operation's documented auth → headers


def build(service: str, folder: Path) -> ServiceApp:
    url = f"sqlite:///{folder / f'{service}.db'}"
    migrate(migrations_home(f"tillkey.{service}"), url)
    config = importlib.import_module(f"tillkey.{service}.config")
    app_module = importlib.import_module(f"tillkey.{service}.entrypoints.app")
    app = app_module.create_app(config.Settings(database_url=url, admin_token=ADMIN, platform_secret=SECRET))
    merchant_key = _merchant_key(service, app)

    def headers_for(auth: str) -> dict[str, str]:
        if "merchant" in auth and merchant_key:
            return {"Authorization": f"Bearer {merchant_key}"}
        if "admin" in auth:
            return {"Authorization": f"Bearer {ADMIN}"}
        return {}

    return ServiceApp(app, headers_for)


def _merchant_key(service: str, app: Flask) -> str:
    from tillkey.platform.credentials import make_api_key
    if service == "orders":
        resp = app.test_client().post("/v1/merchants", json={"name": "Fuzz", "email": "fuzz@example.com"},
                                      headers={"Authorization": f"Bearer {ADMIN}"})
        return resp.get_json()["api_key"]
    # Keys are self-verifying: every other service accepts one signed with the same secret.
    return make_api_key(SECRET, "mer_contract")
