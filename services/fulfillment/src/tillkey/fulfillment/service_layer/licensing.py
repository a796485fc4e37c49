"""Generated keys: issuing them on delivery, and the public API the merchant's software calls.

The key is the credential. Every call hashes what it was given (HMAC, the same work for any
input) and finds the key by that hash in one indexed query, so a guess is answered `not_found`
by the same path and queries as a real key; there is no format check, prefix match or string
comparison that could stop earlier for a guess. The HTTP edge rate-limits per key and per address.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tillkey.fulfillment.domain.errors import NotFound
from tillkey.fulfillment.domain.licensing import (
    DEFAULT_PREFIX,
    Activation,
    GeneratedKey,
    expiry,
    new_key,
    normalize_key,
    token_claims,
)
from tillkey.fulfillment.domain.model import Delivery, Order
from tillkey.fulfillment.domain.sources import LicenseSource
from tillkey.fulfillment.service_layer.ports import Deps, UnitOfWork
from tillkey.fulfillment.service_layer.views import activation_answer, public_license


def issue_keys(uow: UnitOfWork, deps: Deps, order: Order, line: Delivery, source: LicenseSource,
               now: datetime) -> list[str]:
    """`quantity` new keys for the line, each with its signed token, inside the caller's transaction.

    Never twice: the caller starts only lines not started (under the order's lock, with the inbox
    row), and `key_hash` is unique, so even a collision of 125 random bits fails the transaction
    (the message is retried with new keys) instead of handing one key to two customers."""
    settings = source.generated
    signing = uow.signing_keys.get(line.product_id)
    if settings is None or signing is None:
        raise RuntimeError(f"product {line.product_id} has no generated source with a signing key")
    texts = []
    for position in range(line.quantity):
        text = new_key(settings.prefix or DEFAULT_PREFIX)
        key = GeneratedKey(key_id=deps.new_id("lk"), product_id=line.product_id, merchant_id=order.merchant_id,
                           order_id=order.order_id, line_id=line.line_id, key=text,
                           key_hash=deps.crypto.lookup_hash(normalize_key(text)), token="",
                           activation_limit=settings.activation_limit, issued_at=now,
                           expires_at=expiry(now, settings.valid_days), position=position)
        key.token = deps.crypto.sign_token(line.product_id, signing.sealed_private_key, token_claims(key, text))
        uow.generated_keys.add(key)
        texts.append(text)
    return texts


def resign(uow: UnitOfWork, deps: Deps, key: GeneratedKey) -> None:
    """A new token after the merchant changed what it states (the activation limit)."""
    signing = uow.signing_keys.get(key.product_id)
    if key.key is not None and signing is not None:
        key.token = deps.crypto.sign_token(key.product_id, signing.sealed_private_key, token_claims(key, key.key))


def _hash(deps: Deps, key_text: str) -> str:
    return deps.crypto.lookup_hash(normalize_key(key_text))


@dataclass(frozen=True)
class ValidateLicense:
    key: str
    instance_id: str | None = None


def validate(cmd: ValidateLicense, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    key_hash = _hash(deps, cmd.key)
    now = deps.clock.now()
    # Asked before the key is known, for guesses too: the same queries either way.
    activation = uow.activations.get(cmd.instance_id) if cmd.instance_id else None
    key, activations = uow.generated_keys.by_hash(key_hash)
    if key is None:
        return {"status": "not_found", "license": None, "activated": None}
    activated = None if cmd.instance_id is None else (activation is not None and activation.key_id == key.key_id)
    return {"status": key.state(now), "license": public_license(key, activations, now), "activated": activated}


@dataclass(frozen=True)
class ActivateLicense:
    key: str
    instance_name: str | None
    fingerprint: str | None


def activate(cmd: ActivateLicense, uow: UnitOfWork, deps: Deps) -> tuple[dict[str, Any], bool]:
    """(answer, created). The same fingerprint again is the activation it already has (a reinstalled
    machine does not use up the limit); LicenseRefused when the key's state or limit says no."""
    key_hash = _hash(deps, cmd.key)
    now = deps.clock.now()
    key = uow.generated_keys.lock_by_hash(key_hash)
    if key is None:
        raise NotFound("license key")
    existing = uow.activations.of_key(key.key_id)
    same = next((a for a in existing if cmd.fingerprint and a.fingerprint == cmd.fingerprint), None)
    if same is not None and key.state(now) == "valid":
        return activation_answer(key, same, len(existing), now), False
    key.check_activation(len(existing), now)
    activation = Activation(deps.new_id("act"), key.key_id, cmd.instance_name, cmd.fingerprint, now)
    uow.activations.add(activation)
    _emit(uow, "license.activated", key, activation_id=activation.activation_id,
          activations=len(existing) + 1, activation_limit=key.activation_limit)
    uow.commit()
    return activation_answer(key, activation, len(existing) + 1, now), True


@dataclass(frozen=True)
class DeactivateLicense:
    key: str
    instance_id: str


def deactivate(cmd: DeactivateLicense, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    key_hash = _hash(deps, cmd.key)
    now = deps.clock.now()
    activation = uow.activations.get(cmd.instance_id)
    key = uow.generated_keys.lock_by_hash(key_hash)
    if key is None or activation is None or activation.key_id != key.key_id:
        raise NotFound("activation of this license key")
    activations = len(uow.activations.of_key(key.key_id))
    remove_activation(uow, key, activation, activations, reason="customer")
    uow.commit()
    return {"deactivated": True, "activation_id": activation.activation_id,
            "license": public_license(key, activations - 1, now)}


def remove_activation(uow: UnitOfWork, key: GeneratedKey, activation: Activation, activations: int, *,
                      reason: str) -> None:
    uow.activations.remove(activation)
    _emit(uow, "license.deactivated", key, activation_id=activation.activation_id, activations=activations - 1,
          activation_limit=key.activation_limit, reason=reason)


def revoke(uow: UnitOfWork, key: GeneratedKey, reason: str, now: datetime) -> None:
    if key.revoke(reason, now):
        _emit(uow, "license.revoked", key, reason=reason)


def revoke_on_full_refund(uow: UnitOfWork, order_id: str, now: datetime) -> None:
    """The order was refunded in full: revoke its generated keys, where the product says so."""
    settings: dict[str, bool] = {}
    for key in uow.generated_keys.of_order(order_id, lock=True):
        if key.product_id not in settings:
            source = uow.sources.get(key.product_id)
            wanted = source.revoke_on_refund if source is not None and source.method == "generated" else None
            settings[key.product_id] = True if wanted is None else wanted
        if settings[key.product_id]:
            revoke(uow, key, "refund", now)


def erase_order_keys(uow: UnitOfWork, order_id: str, now: datetime) -> None:
    """order.deleted: the activations (machine names, fingerprints) go; the keys stay as revoked rows
    without their text (the order's lines stay for accounting, as the deliveries do)."""
    keys = uow.generated_keys.of_order(order_id, lock=True)
    uow.activations.remove_of_keys([k.key_id for k in keys])
    for key in keys:
        key.erase(now)


def _emit(uow: UnitOfWork, event_type: str, key: GeneratedKey, **data: Any) -> None:
    uow.emit(event_type, {"order_id": key.order_id, "merchant_id": key.merchant_id, "line_id": key.line_id,
                          "product_id": key.product_id, "key_id": key.key_id, **data})
