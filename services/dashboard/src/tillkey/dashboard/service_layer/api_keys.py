"""The merchant's API keys, through the orders API with the merchant's kept key (docs/dashboard.md).

Revoking the very key the dashboard keeps for the merchant switches the dashboard to a new key
first (named `dashboard`, sealed and kept in its place), then revokes the old one with the new
key: the merchant's intent (that key must stop working) is done, and the dashboard keeps working.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from tillkey.dashboard.service_layer.errors import NotFound, Rejected
from tillkey.dashboard.service_layer.ids import checked
from tillkey.dashboard.service_layer.ports import PlatformApi, Sealer, UnitOfWork

NAME_MAX = 100
DASHBOARD_KEY_NAME = "dashboard"


def keys(api: PlatformApi, key: str) -> list[dict[str, Any]]:
    """Newest first: name, prefix, dates, status; `current` marks the key the dashboard calls with."""
    # The answer's values come as the orders API sent them: its `data` is a list of objects.
    return cast(list[dict[str, Any]], api.call("orders", "GET", "/v1/api-keys", key).get("data", []))


def read_name(form: Mapping[str, str]) -> str:
    name = (form.get("name") or "").strip()
    if not name or len(name) > NAME_MAX:
        raise Rejected("The key was not created.", {"name": [f"A name of 1 to {NAME_MAX} characters."]})
    return name


def create(api: PlatformApi, key: str, name: str) -> dict[str, Any]:
    """The new key's listing and the key itself (`api_key`): shown on the answer's page only."""
    return api.call("orders", "POST", "/v1/api-keys", key, body={"name": name})


def key_of(api: PlatformApi, key: str, key_id: str) -> dict[str, Any]:
    """One of the merchant's keys (another merchant's, or none: NotFound)."""
    found = next((k for k in keys(api, key) if k.get("key_id") == checked(key_id)), None)
    if found is None:
        raise NotFound(key_id)
    return found


def revoke(api: PlatformApi, kept_key: str, key_id: str, merchant_id: str, uow: UnitOfWork, sealer: Sealer,
           now: datetime) -> bool:
    """Revoke one of the merchant's keys; True when it was the dashboard's own and was replaced."""
    target = key_of(api, kept_key, key_id)
    if not target.get("current"):
        api.call("orders", "POST", f"/v1/api-keys/{target['key_id']}/revoke", kept_key)
        return False
    new_key = create(api, kept_key, DASHBOARD_KEY_NAME)["api_key"]
    with uow:
        # An empty name keeps the merchant's name; the new sealed key replaces the old one.
        uow.accounts.add_merchant(merchant_id, "", sealer.seal(new_key), now)
        uow.commit()
    api.call("orders", "POST", f"/v1/api-keys/{target['key_id']}/revoke", new_key)
    return True
