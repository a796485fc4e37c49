"""The merchant's configuration calls: license sources, pool uploads and stats, manual delivery.

Each use case takes its command, a unit of work and the deps, and returns plain data or domain
objects; the HTTP edge turns the refusals of domain/errors.py into problem+json.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tillkey.contracts import signing
from tillkey.fulfillment.domain.errors import Conflict, Invalid, NotFound
from tillkey.fulfillment.domain.licensing import SigningKey
from tillkey.fulfillment.domain.model import Delivery, LineAlreadyDelivered, Product
from tillkey.fulfillment.domain.sources import (
    DEFAULT_LOW_STOCK_THRESHOLD,
    GeneratedSettings,
    LicenseSource,
    clean_keys,
)
from tillkey.fulfillment.service_layer.fulfilling import emit_delivered, take_from_pool
from tillkey.fulfillment.service_layer.ports import Deps, ProductDirectory, UnitOfWork
from tillkey.fulfillment.service_layer.views import source_view


def ensure_owner(uow_factory: Callable[[], UnitOfWork], directory: ProductDirectory, merchant_id: str,
                 api_key: str, product_id: str) -> None:
    """NotFound unless the product is the merchant's (another merchant's looks missing too).

    Orders is asked outside any transaction, and only here — merchant configuration calls, never
    the order path — because product.created may simply not have arrived yet. Not a command: it
    spans two transactions with the call to orders between them.
    """
    with uow_factory() as uow:
        product = uow.products.get(product_id)
        if product is not None:
            if product.merchant_id != merchant_id:
                raise NotFound("product")
            return
    answer = directory.product(product_id, api_key)
    if answer is None or answer.get("merchant_id") != merchant_id:
        raise NotFound("product")
    owner: str | None
    try:
        with uow_factory() as uow:
            product = uow.products.get(product_id)
            if product is None:
                uow.products.add_now(Product(product_id, merchant_id, str(answer.get("name") or "")[:200],
                                             bool(answer.get("active", True)), _as_of(answer)))
                uow.commit()
                return
            owner = product.merchant_id
    except Conflict:
        # product.created arrived meanwhile and the consumer wrote the row first: that row
        # (from orders' own event) answers the question, as it does when it is found above.
        with uow_factory() as uow:
            product = uow.products.get(product_id)
            owner = product.merchant_id if product is not None else None
    if owner != merchant_id:
        raise NotFound("product")


@dataclass(frozen=True)
class ConfigureSource:
    """PUT license-source, its fields as the schema checked them (those of other methods None)."""

    merchant_id: str
    product_id: str
    method: str
    url: str | None = None
    secret: str | None = None
    text: str | None = None
    low_stock_threshold: int | None = None
    prefix: str | None = None
    activation_limit: int | None = None
    valid_days: int | None = None
    revoke_on_refund: bool | None = None


def configure_source(cmd: ConfigureSource, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    """Replaces the product's source; a generated secret is in this answer only."""
    method = cmd.method
    generated = None
    if method == "web_service":
        try:
            deps.check_url(cmd.url or "")
        except ValueError as exc:
            raise Invalid({"url": [str(exc)]}) from None
        if not cmd.secret:
            generated = signing.new_secret()
    now = deps.clock.now()
    source = uow.sources.get(cmd.product_id)
    if source is None:
        source = LicenseSource(cmd.product_id, cmd.merchant_id, method, now)
        uow.sources.add(source)
    settings = None
    if method == "generated":
        settings = GeneratedSettings(cmd.prefix, cmd.activation_limit, cmd.valid_days, cmd.revoke_on_refund)
        _ensure_signing_key(uow, deps, cmd.product_id, now)
    source.replace(method, now, url=cmd.url, secret=cmd.secret or generated, text=cmd.text, generated=settings)
    if method == "pool":
        pool = uow.pools.lock(cmd.product_id, cmd.merchant_id)
        # The schema sets the default; a command built elsewhere without one gets the same.
        pool.set_threshold(DEFAULT_LOW_STOCK_THRESHOLD if cmd.low_stock_threshold is None
                           else cmd.low_stock_threshold)
    answer = source_view(cmd.product_id, source, uow.pools.get(cmd.product_id),
                         uow.signing_keys.get(cmd.product_id))
    uow.commit()
    if generated:
        answer["secret"] = generated
    return answer


def _ensure_signing_key(uow: UnitOfWork, deps: Deps, product_id: str, now: datetime) -> None:
    """The product's key pair, made the first time it gets a generated source and kept after: a
    merchant who switches sources back and forth keeps the public key built into their software."""
    if uow.signing_keys.get(product_id) is None:
        public_key, sealed = deps.crypto.new_key_pair(product_id)
        uow.signing_keys.add(SigningKey(product_id, public_key, sealed, now))


@dataclass(frozen=True)
class UploadKeys:
    merchant_id: str
    product_id: str     # the caller checked the product is the merchant's
    keys: list[str]


def upload_keys(cmd: UploadKeys, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    """Add keys to the pool (deduplicated), then complete the lines that waited for them, oldest first.

    A waiting line that needs more keys than are left is skipped, not a blocker: the smaller lines
    behind it are served now, and it is served by a later upload (or by hand).
    """
    product_id = cmd.product_id
    unique, repeats = clean_keys(cmd.keys)
    now = deps.clock.now()
    pool = uow.pools.lock(product_id, cmd.merchant_id)  # uploads and claims of this product take turns
    existing = uow.pools.existing(product_id, unique)
    new = [k for k in unique if k not in existing]
    uow.pools.insert(product_id, new, now)
    available, _ = uow.pools.counts(product_id)
    pool.after_upload(available)
    for line in uow.orders.lines_waiting_for_pool(product_id):
        order = uow.orders.get(line.order_id)
        if order is None:  # a line's order is never deleted (its row stays for accounting)
            raise RuntimeError(f"line {line.line_id} without its order {line.order_id}")
        take_from_pool(uow, order, line, now, already_waiting=True)
    available, _ = uow.pools.counts(product_id)
    uow.commit()
    return {"added": len(new), "duplicates": repeats + len(existing), "available": available}


@dataclass(frozen=True)
class DeliverByHand:
    """The merchant's own licenses for a line; the count must equal the quantity."""

    merchant_id: str
    order_id: str
    line_id: str
    keys: list[str]


def deliver_by_hand(cmd: DeliverByHand, uow: UnitOfWork, deps: Deps) -> Delivery:
    order = uow.orders.get(cmd.order_id, lock=True)
    if order is None or order.merchant_id != cmd.merchant_id:
        raise NotFound("order")
    line = order.line(cmd.line_id)
    if line is None:
        raise NotFound("order line")
    if line.is_delivered:
        raise Conflict("This line is already delivered.")
    if line.not_started:
        raise Conflict("This line's order is not paid yet; licenses are delivered after payment.")
    keys = [k.strip() for k in cmd.keys]
    if len(keys) != line.quantity:
        raise Invalid({"keys": [f"The line has quantity {line.quantity}: send exactly {line.quantity} key(s), "
                                f"not {len(keys)}."]})
    try:
        line.deliver("manual", keys, deps.clock.now())
    except LineAlreadyDelivered:
        raise Conflict("This line is already delivered.") from None
    emit_delivered(uow, order, line)
    uow.commit()
    return line


def _as_of(answer: dict[str, Any]) -> datetime:
    """When orders' answer was true; without a usable time, older than any event (events win)."""
    try:
        return datetime.fromisoformat(answer.get("updated_at") or answer["created_at"])
    except (KeyError, TypeError, ValueError):
        return datetime(2000, 1, 1, tzinfo=UTC)
