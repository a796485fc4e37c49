"""How each object is shown, and the queries behind the API's reads and lists: the one source for
the answers of the merchant's key management, the public license API and the license sources."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tillkey.fulfillment.domain.errors import NotFound
from tillkey.fulfillment.domain.licensing import Activation, GeneratedKey, SigningKey
from tillkey.fulfillment.domain.model import Order
from tillkey.fulfillment.domain.sources import LicenseSource, Pool
from tillkey.fulfillment.service_layer.ports import Deps, UnitOfWork


# -- views ------------------------------------------------------------------------------------------
def key_view(key: GeneratedKey, activations: int, now: datetime) -> dict[str, Any]:
    """A generated key as its merchant sees it."""
    return {"key_id": key.key_id, "key": key.key, "product_id": key.product_id, "order_id": key.order_id,
            "line_id": key.line_id, "status": key.state(now), "revoked_reason": key.revoked_reason,
            "activation_limit": key.activation_limit, "activations": activations, "issued_at": key.issued_at,
            "expires_at": key.expires_at, "license_token": key.token}


def public_license(key: GeneratedKey, activations: int, now: datetime) -> dict[str, Any]:
    """What the key's holder may know: never the order, the customer or the merchant."""
    return {"key_id": key.key_id, "product_id": key.product_id, "status": key.state(now),
            "activation_limit": key.activation_limit, "activations": activations,
            "issued_at": key.issued_at, "expires_at": key.expires_at, "license_token": key.token}


def activation_answer(key: GeneratedKey, activation: Activation, activations: int, now: datetime) -> dict[str, Any]:
    return {"activation_id": activation.activation_id, "instance_name": activation.instance_name,
            "created_at": activation.created_at, "license": public_license(key, activations, now)}


def activation_view(activation: Activation) -> dict[str, Any]:
    return {"activation_id": activation.activation_id, "key_id": activation.key_id,
            "instance_name": activation.instance_name, "fingerprint": activation.fingerprint,
            "created_at": activation.created_at}


def source_view(product_id: str, source: LicenseSource | None, pool: Pool | None,
                signing: SigningKey | None = None) -> dict[str, Any]:
    """The source as the merchant sees it: never the secret (it is shown once, when generated), never
    a private key; a generated source shows the public key the merchant's software verifies with."""
    if source is None:
        return {"product_id": product_id, "method": "manual", "configured": False, "updated_at": None}
    answer: dict[str, Any] = {"product_id": product_id, "method": source.method, "configured": True,
                              "updated_at": source.updated_at}
    if source.method == "web_service":
        answer["url"] = source.url
    elif source.method == "email":
        answer["text"] = source.text
    elif source.method == "pool" and pool is not None:
        answer["low_stock_threshold"] = pool.low_stock_threshold
    elif source.method == "generated":
        answer.update(prefix=source.prefix, activation_limit=source.activation_limit, valid_days=source.valid_days,
                      revoke_on_refund=source.revoke_on_refund,
                      public_key=signing.public_key if signing is not None else None)
    return answer


def key_listing(uow: UnitOfWork, deps: Deps, keys: list[GeneratedKey], next_cursor: str | None) -> dict[str, Any]:
    counts = uow.activations.counts([k.key_id for k in keys])
    now = deps.clock.now()
    return {"data": [key_view(k, counts.get(k.key_id, 0), now) for k in keys], "next_cursor": next_cursor}


# -- queries ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ListDeliveries:
    order_id: str


def list_deliveries(cmd: ListDeliveries, uow: UnitOfWork, deps: Deps) -> Order | None:
    """The order with its lines, each generated line with its keys' license tokens (`license_tokens`,
    a plain attribute the HTTP schema reads); None when the order is unknown. Who may see it is the
    edge's check (it needs the order's merchant)."""
    order = uow.orders.get_with_lines(cmd.order_id)
    generated = [d.line_id for d in order.deliveries if d.method == "generated"] if order else []
    tokens = uow.generated_keys.tokens_of_lines(generated)
    if order is not None:
        for line in order.deliveries:
            line.license_tokens = tokens.get(line.line_id, [])  # type: ignore[attr-defined]
    return order


@dataclass(frozen=True)
class GetLicenseSource:
    product_id: str     # the caller checked the product is the merchant's


def get_license_source(cmd: GetLicenseSource, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    return source_view(cmd.product_id, uow.sources.get(cmd.product_id), uow.pools.get(cmd.product_id),
                       uow.signing_keys.get(cmd.product_id))


@dataclass(frozen=True)
class GetPoolStats:
    product_id: str     # the caller checked the product is the merchant's


def get_pool_stats(cmd: GetPoolStats, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    available, issued = uow.pools.counts(cmd.product_id)
    return {"available": available, "issued": issued}


@dataclass(frozen=True)
class ListProductKeys:
    product_id: str     # the caller checked the product is the merchant's
    limit: int
    cursor: str | None


def list_product_keys(cmd: ListProductKeys, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    keys, next_cursor = uow.generated_keys.page(cmd.product_id, cmd.limit, cmd.cursor)
    return key_listing(uow, deps, keys, next_cursor)


@dataclass(frozen=True)
class ListOrderKeys:
    merchant_id: str
    order_id: str


def list_order_keys(cmd: ListOrderKeys, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    order = uow.orders.get(cmd.order_id)
    if order is None or order.merchant_id != cmd.merchant_id:
        raise NotFound("order")
    return key_listing(uow, deps, uow.generated_keys.of_order(cmd.order_id), None)


@dataclass(frozen=True)
class ListActivations:
    merchant_id: str
    key_id: str


def list_activations(cmd: ListActivations, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    key = uow.generated_keys.get(cmd.key_id)
    if key is None or key.merchant_id != cmd.merchant_id:
        raise NotFound("license key")
    return {"data": [activation_view(a) for a in uow.activations.of_key(cmd.key_id)], "next_cursor": None}
