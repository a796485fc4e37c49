"""What the use cases need from the outside world; adapters (and the tests' fakes) provide it."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from tillkey.contracts import Envelope
from tillkey.fulfillment.domain.licensing import Activation, GeneratedKey, SigningKey
from tillkey.fulfillment.domain.model import Delivery, Order, Product
from tillkey.fulfillment.domain.sources import LicenseSource, Pool

Page = tuple[list[GeneratedKey], str | None]   # newest first, and the cursor of the next page (or None)


class Clock(Protocol):
    def now(self) -> datetime: ...


class LicenseCrypto(Protocol):
    """Signs generated keys' license tokens and hashes keys for lookup (adapters.license_crypto)."""

    def lookup_hash(self, normalized_key: str) -> str: ...

    def new_key_pair(self, product_id: str) -> tuple[str, str]:
        """(public key PEM, sealed private key) of a new Ed25519 pair for the product."""

    def sign_token(self, product_id: str, sealed_private_key: str, claims: dict[str, Any]) -> str: ...


class ProductDirectory(Protocol):
    """Orders, asked who owns a product fulfillment has not heard of yet (docs/architecture.md §6)."""

    def product(self, product_id: str, api_key: str) -> dict[str, Any] | None:
        """The product as orders shows it to the key's merchant; None if not theirs.

        Raises domain.errors.Unavailable when orders cannot answer."""


@dataclass(frozen=True)
class Deps:
    """Everything a handler needs besides its unit of work, wired once in bootstrap."""

    clock: Clock
    new_id: Callable[[str], str]
    crypto: LicenseCrypto
    # Raises ValueError, saying why, for a web-service URL this platform never calls (not http(s), or
    # a loopback or private address unless ALLOW_PRIVATE_URLS): tillkey.platform.urls.check_url.
    check_url: Callable[[str], None] = lambda url: None


class ProductRepository(Protocol):
    def get(self, product_id: str) -> Product | None: ...
    def add(self, product: Product) -> None: ...

    def add_now(self, product: Product) -> None:
        """Written at once; raises domain Conflict when a product with its id is there already (the
        consumer stored it from product.created meanwhile: race-free, the primary key)."""


class OrderRepository(Protocol):
    def get(self, order_id: str, *, lock: bool = False) -> Order | None:
        """`lock`: the order's row held until commit; what changes on it and its lines is stored
        when the unit of work commits. Asked for again in one transaction, the same object."""

    def get_with_lines(self, order_id: str) -> Order | None:
        """The order with its lines loaded, to read after the unit of work ends."""

    def add_unless_known(self, order: Order) -> bool:
        """A new order and its lines; False, and nothing written, when its id is here already."""

    def line(self, line_id: str, *, lock: bool = False) -> Delivery | None: ...

    def lines_waiting_for_pool(self, product_id: str) -> list[Delivery]:
        """Lines that fell back to the merchant because the pool ran short, oldest order first, locked."""

    def due_web_service_lines(self, now: datetime, limit: int) -> list[Delivery]:
        """Lines whose call is due and not leased, oldest due first, locked (another worker skips them)."""

    def next_web_service_call_at(self) -> datetime | None:
        """When the earliest pending call falls due (None: none is pending)."""


class SourceRepository(Protocol):
    def get(self, product_id: str) -> LicenseSource | None:
        """The source to change (the merchant's edits)."""

    def for_delivery(self, product_id: str) -> LicenseSource | None:
        """The source to deliver a line by, only read (as read with the lines of an order locked in
        this transaction, when it was)."""

    def add(self, source: LicenseSource) -> None: ...


@dataclass(frozen=True)
class Claimed:
    """Keys a claim took from a pool, oldest first, and the keys `left` after it: exact below the
    count's limit, the limit otherwise (a low-stock check only asks "below the threshold?")."""

    keys: list[str]
    left: int


class PoolRepository(Protocol):
    def get(self, product_id: str, *, lock: bool = False) -> Pool | None:
        """`lock`: claims and uploads of one product take turns; what changes on a locked pool is
        stored when the unit of work commits."""

    def lock(self, product_id: str, merchant_id: str) -> Pool:
        """The product's pool, created if missing, locked for this transaction."""

    def counts(self, product_id: str) -> tuple[int, int]:
        """(available, issued) keys of the product's pool."""

    def available(self, product_id: str, up_to: int) -> int:
        """How many keys are left, counted no further than `up_to`."""

    def claim(self, product_id: str, quantity: int, line_id: str, now: datetime, *,
              count_left_up_to: int = 0) -> Claimed | None:
        """`quantity` keys taken for the line, oldest first, and how many are left after them
        (counted no further than `count_left_up_to`); None when the pool is short (nothing taken).
        The caller holds the pool's lock (`get(lock=True)`)."""

    def existing(self, product_id: str, keys: list[str]) -> set[str]: ...
    def insert(self, product_id: str, keys: list[str], now: datetime) -> None: ...


class SigningKeyRepository(Protocol):
    def get(self, product_id: str) -> SigningKey | None: ...

    def add(self, key: SigningKey) -> None:
        """Written at once (the product's one key pair)."""


class GeneratedKeyRepository(Protocol):
    def add(self, key: GeneratedKey) -> None: ...
    def get(self, key_id: str, *, lock: bool = False) -> GeneratedKey | None: ...

    def by_hash(self, key_hash: str) -> tuple[GeneratedKey | None, int]:
        """The key and how many activations it has, in one query whether it exists or not."""

    def lock_by_hash(self, key_hash: str) -> GeneratedKey | None:
        """Locked: activations of one key take turns."""

    def of_order(self, order_id: str, *, lock: bool = False) -> list[GeneratedKey]: ...
    def page(self, product_id: str, limit: int, cursor: str | None) -> Page: ...

    def tokens_of_lines(self, line_ids: list[str]) -> dict[str, list[str]]:
        """The license tokens of each line's keys, in the keys' order."""


class ActivationRepository(Protocol):
    def add(self, activation: Activation) -> None: ...
    def get(self, activation_id: str) -> Activation | None: ...

    def of_key(self, key_id: str) -> list[Activation]:
        """Oldest first."""

    def counts(self, key_ids: list[str]) -> dict[str, int]:
        """How many activations each key has (keys without any are left out)."""

    def remove(self, activation: Activation) -> None: ...

    def remove_of_keys(self, key_ids: list[str]) -> int:
        """Delete the keys' activations; how many went."""


class RevokedKeyRepository(Protocol):
    def deny(self, merchant_id: str, key_id: str, revoked_at: datetime) -> None:
        """Put the key on this service's own denylist (a second revocation changes nothing)."""


class UnitOfWork(Protocol):
    products: ProductRepository
    orders: OrderRepository
    sources: SourceRepository
    pools: PoolRepository
    signing_keys: SigningKeyRepository
    generated_keys: GeneratedKeyRepository
    activations: ActivationRepository
    revoked_keys: RevokedKeyRepository

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc_info: object) -> None: ...
    def commit(self) -> None: ...
    def emit(self, type: str, data: dict[str, Any], version: int = 1) -> Envelope: ...

    def web_service_call_scheduled(self) -> None:
        """A line now waits for a call to the merchant's web service: the call worker is woken once
        the batch that scheduled it commits."""
