"""What the use cases need from the outside world; adapters (and the tests' fakes) provide it."""
from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from tillkey.orders.domain.api_keys import ApiKey
from tillkey.orders.domain.carts import Cart
from tillkey.orders.domain.catalog import Merchant, Product
from tillkey.orders.domain.coupons import Coupon
from tillkey.orders.domain.orders import Order
from tillkey.orders.domain.refunds import Refund


# -- what an order list is narrowed to (part of ListOrders, read by OrderRepository.page) --
@dataclass(frozen=True)
class OrderFilter:
    """What an order list is narrowed to; None is "any"."""

    merchant_id: str | None = None      # None: every merchant's (support)
    status: str | None = None
    delivery_status: str | None = None
    email: str | None = None            # exact, ignoring case
    created_from: datetime | None = None      # inclusive
    created_before: datetime | None = None    # exclusive


Page = tuple[list[Any], str | None]   # items newest first, and the cursor of the next page (or None)


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True)
class Deps:
    """Everything a handler needs besides its unit of work, wired once in bootstrap."""

    clock: Clock
    new_id: Callable[[str], str]
    platform_secret: str
    orders_public_url: str
    payments_public_url: str


class MerchantRepository(Protocol):
    def add(self, merchant: Merchant) -> None: ...
    def get(self, merchant_id: str) -> Merchant | None: ...


class ProductRepository(Protocol):
    def add(self, product: Product) -> None: ...
    def get(self, product_id: str) -> Product | None: ...
    def get_many(self, product_ids: list[str]) -> dict[str, Product]: ...
    def page(self, merchant_id: str, limit: int, cursor: str | None) -> Page: ...


class CouponRepository(Protocol):
    def add(self, coupon: Coupon) -> None:
        """Raises domain Conflict when the merchant already has this code (race-free: unique key)."""

    def get(self, merchant_id: str, code_key: str) -> Coupon | None: ...
    def page(self, merchant_id: str, limit: int, cursor: str | None) -> Page: ...

    def redeem(self, merchant_id: str, code_key: str) -> bool:
        """Count one redemption if any is left; False when the coupon is used up (atomic)."""

    def release(self, merchant_id: str, code_key: str) -> None:
        """Give one redemption back (its order was canceled or deleted); never below zero (atomic)."""


class CartRepository(Protocol):
    def add(self, cart: Cart) -> None: ...

    def get(self, cart_id: str, lock: bool = False) -> Cart | None:
        """`lock`: hold the cart's row until commit, so two changes to one cart never interleave."""

    def claim_for_checkout(self, cart_id: str, order_id: str, now: datetime) -> tuple[Cart, dict[str, Product]] | None:
        """Checkout's claim: the cart, if it is open, checked out to `order_id` at `now` and held
        until commit (a rollback undoes the claim), with the products of its lines (the missing ones
        left out), read after the claim. None when no open cart has that id."""


class OrderRepository(Protocol):
    def add(self, order: Order) -> None: ...

    def get(self, order_id: str, lock: bool = False, lines: bool = True) -> Order | None:
        """`lock`: hold the order's row until commit (every change of an existing order takes it);
        what changes on it is stored when the unit of work commits. `lines=False` (with `lock`):
        its lines are not read, `lines` is empty, for a use case that never looks at them; a later
        `get` of the same order in this unit of work that wants them reads them then."""

    def lock_many(self, order_ids: Collection[str], lines: bool = True) -> None:
        """Lock these orders (those that exist) at once, for `get(lock=True)` to answer from in
        this unit of work: a consumer's batch locks its orders in one statement."""

    def claim_unpaid(self, created_before: datetime, limit: int, *, unreminded: bool = False,
                     created_after: datetime | None = None) -> list[Order]:
        """Unpaid orders, oldest first, locked for this unit of work and skipped by any other."""

    def reserve_refund(self, order_id: str, amount: int) -> bool:
        """Atomically reserve `amount` on a paid order if that much is left; False if not."""

    def page(self, which: OrderFilter, limit: int, cursor: str | None) -> Page: ...


class RefundRepository(Protocol):
    def add(self, refund: Refund) -> None: ...
    def get(self, refund_id: str, lock: bool = False) -> Refund | None: ...


class ApiKeyRepository(Protocol):
    def add(self, key: ApiKey) -> None: ...
    def add_if_absent(self, key: ApiKey) -> None: ...
    def get(self, key_id: str) -> ApiKey | None: ...
    def of_merchant(self, merchant_id: str, lock: bool = False) -> list[ApiKey]:
        """`lock`: hold the merchant's keys until commit (revocations of one merchant take turns)."""

    def deny(self, merchant_id: str, key_id: str, revoked_at: datetime) -> None:
        """Put the key on this service's own denylist (the Authenticator refuses it)."""


class UnitOfWork(Protocol):
    merchants: MerchantRepository
    api_keys: ApiKeyRepository
    products: ProductRepository
    coupons: CouponRepository
    carts: CartRepository
    orders: OrderRepository
    refunds: RefundRepository

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc_info: object) -> None: ...
    def commit(self) -> None: ...
    def emit(self, type: str, data: dict[str, Any], version: int = 1) -> Any: ...
