"""The merchant's calls on generated keys. Another merchant's key or order looks missing (404).
Their lists are read models (service_layer/views.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tillkey.fulfillment.domain.errors import Conflict, NotFound
from tillkey.fulfillment.domain.licensing import GeneratedKey
from tillkey.fulfillment.service_layer import licensing
from tillkey.fulfillment.service_layer.ports import Deps, UnitOfWork
from tillkey.fulfillment.service_layer.views import key_view


def _own_key(uow: UnitOfWork, merchant_id: str, key_id: str) -> GeneratedKey:
    key = uow.generated_keys.get(key_id, lock=True)
    if key is None or key.merchant_id != merchant_id:
        raise NotFound("license key")
    return key


def _answer(uow: UnitOfWork, deps: Deps, key: GeneratedKey) -> dict[str, Any]:
    answer = key_view(key, uow.activations.counts([key.key_id]).get(key.key_id, 0), deps.clock.now())
    uow.commit()
    return answer


@dataclass(frozen=True)
class RevokeKey:
    merchant_id: str
    key_id: str


def revoke_key(cmd: RevokeKey, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    key = _own_key(uow, cmd.merchant_id, cmd.key_id)
    licensing.revoke(uow, key, "merchant", deps.clock.now())
    return _answer(uow, deps, key)


@dataclass(frozen=True)
class ReinstateKey:
    merchant_id: str
    key_id: str


def reinstate_key(cmd: ReinstateKey, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    key = _own_key(uow, cmd.merchant_id, cmd.key_id)
    if key.revoked_reason == "order_deleted":
        raise Conflict("This key's order was deleted; its key cannot be re-enabled.")
    key.reinstate()
    return _answer(uow, deps, key)


@dataclass(frozen=True)
class ChangeActivationLimit:
    merchant_id: str
    key_id: str
    activation_limit: int | None


def change_activation_limit(cmd: ChangeActivationLimit, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    key = _own_key(uow, cmd.merchant_id, cmd.key_id)
    if key.key is None:
        raise Conflict("This key's order was deleted; its key cannot be changed.")
    if key.activation_limit != cmd.activation_limit:
        key.activation_limit = cmd.activation_limit
        licensing.resign(uow, deps, key)
    return _answer(uow, deps, key)


@dataclass(frozen=True)
class RemoveActivation:
    merchant_id: str
    key_id: str
    activation_id: str


def remove_activation(cmd: RemoveActivation, uow: UnitOfWork, deps: Deps) -> None:
    key = _own_key(uow, cmd.merchant_id, cmd.key_id)
    activation = uow.activations.get(cmd.activation_id)
    if activation is None or activation.key_id != key.key_id:
        raise NotFound("activation")
    licensing.remove_activation(uow, key, activation, len(uow.activations.of_key(cmd.key_id)), reason="merchant")
    uow.commit()
