"""The merchant's calls on generated keys. Another merchant's key or order looks missing (404)."""
from __future__ import annotations

from datetime import datetime

from tillkey.fulfillment.domain.errors import Conflict, NotFound
from tillkey.fulfillment.domain.licensing import GeneratedKey
from tillkey.fulfillment.service_layer import licensing


def describe(key: GeneratedKey, activations: int, now: datetime) -> dict:
    return {"key_id": key.key_id, "key": key.key, "product_id": key.product_id, "order_id": key.order_id,
            "line_id": key.line_id, "status": key.state(now), "revoked_reason": key.revoked_reason,
            "activation_limit": key.activation_limit, "activations": activations, "issued_at": key.issued_at,
            "expires_at": key.expires_at, "license_token": key.token}


def _listing(uow, keys: list[GeneratedKey], next_cursor: str | None) -> dict:
    counts = uow.activation_counts([k.key_id for k in keys])
    now = uow.clock.now()
    return {"data": [describe(k, counts.get(k.key_id, 0), now) for k in keys], "next_cursor": next_cursor}


def product_keys(uow, product_id: str, limit: int, cursor: str | None) -> dict:
    """The caller checked the product is the merchant's."""
    with uow:
        keys, next_cursor = uow.generated_keys_page(product_id, limit, cursor)
        return _listing(uow, keys, next_cursor)


def order_keys(uow, merchant_id: str, order_id: str) -> dict:
    with uow:
        order = uow.order(order_id)
        if order is None or order.merchant_id != merchant_id:
            raise NotFound("order")
        return _listing(uow, uow.generated_keys_of_order(order_id), None)


def _own_key(uow, merchant_id: str, key_id: str) -> GeneratedKey:
    key = uow.generated_key(key_id, lock=True)
    if key is None or key.merchant_id != merchant_id:
        raise NotFound("license key")
    return key


def _answer(uow, key: GeneratedKey) -> dict:
    answer = describe(key, uow.activation_counts([key.key_id]).get(key.key_id, 0), uow.clock.now())
    uow.commit()
    return answer


def revoke(uow, merchant_id: str, key_id: str) -> dict:
    with uow:
        key = _own_key(uow, merchant_id, key_id)
        licensing.revoke(uow, key, "merchant", uow.clock.now())
        return _answer(uow, key)


def reinstate(uow, merchant_id: str, key_id: str) -> dict:
    with uow:
        key = _own_key(uow, merchant_id, key_id)
        if key.revoked_reason == "order_deleted":
            raise Conflict("This key's order was deleted; its key cannot be re-enabled.")
        key.reinstate()
        return _answer(uow, key)


def change_limit(uow, merchant_id: str, key_id: str, activation_limit: int | None) -> dict:
    with uow:
        key = _own_key(uow, merchant_id, key_id)
        if key.key is None:
            raise Conflict("This key's order was deleted; its key cannot be changed.")
        if key.activation_limit != activation_limit:
            key.activation_limit = activation_limit
            licensing.resign(uow, key)
        return _answer(uow, key)


def activations(uow, merchant_id: str, key_id: str) -> dict:
    with uow:
        key = uow.generated_key(key_id)
        if key is None or key.merchant_id != merchant_id:
            raise NotFound("license key")
        return {"data": [{"activation_id": a.activation_id, "key_id": a.key_id, "instance_name": a.instance_name,
                          "fingerprint": a.fingerprint, "created_at": a.created_at}
                         for a in uow.activations_of(key_id)], "next_cursor": None}


def remove_activation(uow, merchant_id: str, key_id: str, activation_id: str) -> None:
    with uow:
        key = _own_key(uow, merchant_id, key_id)
        activation = uow.activation(activation_id)
        if activation is None or activation.key_id != key.key_id:
            raise NotFound("activation")
        licensing.remove_activation(uow, key, activation, len(uow.activations_of(key_id)), reason="merchant")
        uow.commit()
