"""A merchant's API keys: create (shown once), list (prefix only), revoke (docs/integration.md "API keys").

Revoking puts the key on orders' own denylist in the same transaction and publishes
`merchant.api_key_revoked` through the outbox; every other service adds it to its own denylist
from that event (tillkey.platform.revoked_keys).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tillkey.orders.domain.api_keys import ADOPTED_NAME, DEFAULT_NAME, ApiKey, check_not_last_calling_key
from tillkey.orders.domain.errors import NotFound
from tillkey.orders.service_layer.ports import Deps, UnitOfWork
from tillkey.platform.clock import isoformat
from tillkey.platform.credentials import api_key_id, api_key_prefix, make_api_key


# -- commands and queries (plain data, validated for shape at the edge) --
@dataclass(frozen=True)
class CreateApiKey:
    merchant_id: str
    name: str
    caller: KeyCaller | None = None


@dataclass(frozen=True)
class ListApiKeys:
    merchant_id: str
    caller: KeyCaller | None = None


@dataclass(frozen=True)
class RevokeApiKey:
    merchant_id: str
    key_id: str
    by: str                          # "merchant" or "admin"
    caller: KeyCaller | None = None


@dataclass(frozen=True)
class KeyCaller:
    """The API key a merchant calls with (None for admin): a key older than the registry is
    recorded when it lists or creates keys, so it can be seen and revoked too."""

    key_id: str
    prefix: str


def api_key_view(key: ApiKey, caller: KeyCaller | None = None) -> dict[str, Any]:
    return {"key_id": key.key_id, "name": key.name, "prefix": key.prefix,
            "status": "active" if key.live else "revoked", "created_at": isoformat(key.created_at),
            "revoked_at": isoformat(key.revoked_at) if key.revoked_at else None, "revoked_by": key.revoked_by,
            "current": caller is not None and caller.key_id == key.key_id}


def issue_key(uow: UnitOfWork, deps: Deps, merchant_id: str, name: str) -> tuple[ApiKey, str]:
    """A new key for the merchant, in the registry; the caller commits and shows the key once."""
    secret = make_api_key(deps.platform_secret, merchant_id)
    key_id = api_key_id(secret)
    if key_id is None:  # only a merchant id that is not `mer_<letters and digits>` makes a key without one
        raise ValueError(f"no API key can name merchant {merchant_id!r}")
    key = ApiKey(key_id, merchant_id, name, api_key_prefix(secret), deps.clock.now())
    uow.api_keys.add(key)
    return key, secret


def _adopt_caller(uow: UnitOfWork, deps: Deps, merchant_id: str, caller: KeyCaller | None) -> None:
    # A key issued before the registry verifies, but nothing lists it: record it the first time it
    # manages keys, so the merchant sees it and can revoke it.
    if caller is not None and uow.api_keys.get(caller.key_id) is None:
        uow.api_keys.add_if_absent(ApiKey(caller.key_id, merchant_id, ADOPTED_NAME, caller.prefix, deps.clock.now()))


def _merchant_exists(uow: UnitOfWork, merchant_id: str) -> None:
    if uow.merchants.get(merchant_id) is None:   # a valid key of a merchant registered elsewhere
        raise NotFound("No such merchant.")


def create_api_key(cmd: CreateApiKey, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    _merchant_exists(uow, cmd.merchant_id)
    _adopt_caller(uow, deps, cmd.merchant_id, cmd.caller)
    key, secret = issue_key(uow, deps, cmd.merchant_id, cmd.name)
    uow.commit()
    return {**api_key_view(key, cmd.caller), "api_key": secret}


def list_api_keys(cmd: ListApiKeys, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    _merchant_exists(uow, cmd.merchant_id)
    if cmd.caller is not None and uow.api_keys.get(cmd.caller.key_id) is None:
        _adopt_caller(uow, deps, cmd.merchant_id, cmd.caller)
        uow.commit()
    return {"data": [api_key_view(k, cmd.caller) for k in uow.api_keys.of_merchant(cmd.merchant_id)]}


def revoke_api_key(cmd: RevokeApiKey, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    # Locked, so two revocations at once take turns: neither can count the other's key as still
    # live and leave the merchant without one, nor write the denylist row twice.
    keys = uow.api_keys.of_merchant(cmd.merchant_id, lock=True)
    key = next((k for k in keys if k.key_id == cmd.key_id), None)
    if key is None:   # another merchant's key looks exactly like a missing one
        raise NotFound("No such API key.")
    if cmd.by == "merchant":
        check_not_last_calling_key(key, cmd.caller.key_id if cmd.caller else None, [k for k in keys if k.live])
    now = deps.clock.now()
    if key.revoke(now, cmd.by):
        uow.api_keys.deny(key.merchant_id, key.key_id, now)
        uow.emit("merchant.api_key_revoked", {"merchant_id": key.merchant_id, "key_id": key.key_id})
        uow.commit()
    return api_key_view(key, cmd.caller)


def default_key(uow: UnitOfWork, deps: Deps, merchant_id: str) -> str:
    """The key given with a new merchant, registered under the name "default"."""
    return issue_key(uow, deps, merchant_id, DEFAULT_NAME)[1]
