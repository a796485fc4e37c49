"""The merchant's configuration calls: license sources, pool uploads and stats, manual delivery.

Each use case takes a unit of work and returns plain data or domain objects; the HTTP edge turns
the errors of domain/errors.py into problem+json.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.exc import IntegrityError

from tillkey.contracts import signing
from tillkey.fulfillment.domain.errors import Conflict, Invalid, NotFound
from tillkey.fulfillment.domain.licensing import SigningKey
from tillkey.fulfillment.domain.model import LineAlreadyDelivered, Product
from tillkey.fulfillment.domain.sources import GeneratedSettings, LicenseSource, Pool, clean_keys
from tillkey.fulfillment.service_layer.fulfilling import emit_delivered, take_from_pool
from tillkey.platform import urls


class ProductDirectory(Protocol):
    """Orders, asked who owns a product fulfillment has not heard of yet (docs/architecture.md §6)."""

    def product(self, product_id: str, api_key: str) -> dict | None:
        """The product as orders shows it to the key's merchant; None if not theirs.

        Raises domain.errors.Unavailable when orders cannot answer."""


def ensure_owner(uow_factory: Callable, directory: ProductDirectory, merchant_id: str, api_key: str,
                 product_id: str) -> None:
    """NotFound unless the product is the merchant's (another merchant's looks missing too).

    Orders is asked outside any transaction, and only here — merchant configuration calls, never
    the order path — because product.created may simply not have arrived yet.
    """
    with uow_factory() as uow:
        product = uow.product(product_id)
        if product is not None:
            if product.merchant_id != merchant_id:
                raise NotFound("product")
            return
    answer = directory.product(product_id, api_key)
    if answer is None or answer.get("merchant_id") != merchant_id:
        raise NotFound("product")
    try:
        with uow_factory() as uow:
            product = uow.product(product_id)
            if product is None:
                uow.add(Product(product_id, merchant_id, str(answer.get("name") or "")[:200],
                                bool(answer.get("active", True)), _as_of(answer)))
                uow.commit()
                return
            owner = product.merchant_id
    except IntegrityError:
        # product.created arrived meanwhile and the consumer wrote the row first: that row
        # (from orders' own event) answers the question, as it does when it is found above.
        with uow_factory() as uow:
            product = uow.product(product_id)
            owner = product.merchant_id if product is not None else None
    if owner != merchant_id:
        raise NotFound("product")


def configure_source(uow, merchant_id: str, product_id: str, config: dict, *, allow_private_urls: bool) -> dict:
    """PUT license-source: replaces the product's source; a generated secret is in this answer only."""
    method = config["method"]
    generated = None
    if method == "web_service":
        try:
            urls.check_url(config["url"], allow_private=allow_private_urls)
        except urls.UnsafeUrl as exc:
            raise Invalid({"url": [str(exc)]}) from None
        if not config.get("secret"):
            generated = signing.new_secret()
    with uow:
        now = uow.clock.now()
        source = uow.source(product_id)
        if source is None:
            source = LicenseSource(product_id, merchant_id, method, now)
            uow.add(source)
        settings = None
        if method == "generated":
            settings = GeneratedSettings(config["prefix"], config["activation_limit"], config["valid_days"],
                                         config["revoke_on_refund"])
            _ensure_signing_key(uow, product_id, now)
        source.replace(method, now, url=config.get("url"), secret=config.get("secret") or generated,
                       text=config.get("text"), generated=settings)
        if method == "pool":
            pool = uow.lock_pool(product_id, merchant_id)
            pool.set_threshold(config["low_stock_threshold"])
        answer = describe_source(product_id, source, uow.pool(product_id), uow.signing_key(product_id))
        uow.commit()
    if generated:
        answer["secret"] = generated
    return answer


def _ensure_signing_key(uow, product_id: str, now: datetime) -> None:
    """The product's key pair, made the first time it gets a generated source and kept after: a
    merchant who switches sources back and forth keeps the public key built into their software."""
    if uow.signing_key(product_id) is None:
        public_key, sealed = uow.crypto.new_key_pair(product_id)
        uow.add(SigningKey(product_id, public_key, sealed, now))
        uow.flush()


def read_source(uow, product_id: str) -> dict:
    with uow:
        return describe_source(product_id, uow.source(product_id), uow.pool(product_id),
                               uow.signing_key(product_id))


def describe_source(product_id: str, source: LicenseSource | None, pool: Pool | None,
                    signing: SigningKey | None = None) -> dict:
    """The source as the merchant sees it: never the secret (it is shown once, when generated), never
    a private key; a generated source shows the public key the merchant's software verifies with."""
    if source is None:
        return {"product_id": product_id, "method": "manual", "configured": False, "updated_at": None}
    answer = {"product_id": product_id, "method": source.method, "configured": True,
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


def upload_keys(uow, merchant_id: str, product_id: str, keys: list[str]) -> dict:
    """Add keys to the pool (deduplicated), then complete the lines that waited for them, oldest first.

    A waiting line that needs more keys than are left is skipped, not a blocker: the smaller lines
    behind it are served now, and it is served by a later upload (or by hand).
    """
    unique, repeats = clean_keys(keys)
    with uow:
        now = uow.clock.now()
        pool = uow.lock_pool(product_id, merchant_id)  # uploads and claims of this product take turns
        existing = uow.existing_keys(product_id, unique)
        new = [k for k in unique if k not in existing]
        uow.insert_keys(product_id, new, now)
        available, _ = uow.pool_counts(product_id)
        pool.after_upload(available)
        for line in uow.lines_waiting_for_pool(product_id):
            order = uow.order(line.order_id)
            take_from_pool(uow, order, line, now, already_waiting=True)
        available, _ = uow.pool_counts(product_id)
        uow.commit()
    return {"added": len(new), "duplicates": repeats + len(existing), "available": available}


def pool_stats(uow, product_id: str) -> dict:
    with uow:
        available, issued = uow.pool_counts(product_id)
        return {"available": available, "issued": issued}


def deliver_by_hand(uow, merchant_id: str, order_id: str, line_id: str, keys: list[str]):
    """The merchant's own licenses for a line; the count must equal the quantity."""
    with uow:
        order = uow.order(order_id, lock=True)
        if order is None or order.merchant_id != merchant_id:
            raise NotFound("order")
        line = order.line(line_id)
        if line is None:
            raise NotFound("order line")
        if line.is_delivered:
            raise Conflict("This line is already delivered.")
        if line.not_started:
            raise Conflict("This line's order is not paid yet; licenses are delivered after payment.")
        keys = [k.strip() for k in keys]
        if len(keys) != line.quantity:
            raise Invalid({"keys": [f"The line has quantity {line.quantity}: send exactly {line.quantity} key(s), "
                                    f"not {len(keys)}."]})
        try:
            line.deliver("manual", keys, uow.clock.now())
        except LineAlreadyDelivered:
            raise Conflict("This line is already delivered.") from None
        emit_delivered(uow, order, line)
        uow.commit()
        return line


def _as_of(answer: dict) -> datetime:
    """When orders' answer was true; without a usable time, older than any event (events win)."""
    try:
        return datetime.fromisoformat(answer.get("updated_at") or answer["created_at"])
    except (KeyError, TypeError, ValueError):
        return datetime(2000, 1, 1, tzinfo=UTC)

