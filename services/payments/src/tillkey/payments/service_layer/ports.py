"""What the use cases need from the outside world; adapters (and the tests' fakes) provide it."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from tillkey.payments.domain.bank_transfer import BankAccount
from tillkey.payments.domain.model import Merchant, Order, Payment
from tillkey.payments.domain.refunds import Refund
from tillkey.payments.service_layer.gateway_port import CardGateway

Page = tuple[list[Payment], str | None]   # items newest first, and the cursor of the next page (or None)


class Clock(Protocol):
    def now(self) -> datetime: ...


class MerchantRepository(Protocol):
    def add(self, merchant: Merchant) -> None: ...
    def get(self, merchant_id: str) -> Merchant | None: ...


class OrderRepository(Protocol):
    """Payments' copies of orders, each the aggregate of its payment attempts and refunds."""

    def get(self, order_id: str, lock: bool = False, *, with_payments: bool = True,
            with_refunds: bool = True) -> Order | None:
        """`lock`: hold the order's row until commit (PostgreSQL `FOR UPDATE`), so two requests or
        notifications about one order decide one after the other; what changes on a locked order
        (its columns, new or changed payments and refunds) is stored when the unit of work commits.
        Locked again in the same transaction (a batch), it is the same object. `with_payments` /
        `with_refunds` False: the caller never looks at them (one statement less; they are still
        read if touched)."""

    def of_payment(self, payment_id: str, *, with_payments: bool = True,
                   with_refunds: bool = True) -> Order | None:
        """The order a payment attempt belongs to, locked and loaded like `get(lock=True)`."""

    def of_refund(self, refund_id: str, *, with_payments: bool = True,
                  with_refunds: bool = True) -> Order | None:
        """The order a refund belongs to, locked and loaded like `get(lock=True)`."""

    def of_notification(self, gateway: str, notification_id: str, type: str, reference: str,
                        received_at: datetime, *, is_refund: bool) -> tuple[Order | None, bool]:
        """The order a gateway's notification names (`reference`: an attempt's or, `is_refund`, a
        refund's id), locked like `of_refund` / `of_payment(with_refunds=False)`, and whether the
        notification is new: recorded now, in this unit of work (False: recorded before, a
        redelivery; the caller does nothing). (None, False), nothing recorded, if the id is unknown."""

    def add_unless_known(self, order: Order) -> bool:
        """A new order with the payments it comes with (a free order's): False, and nothing written,
        when an order with its id is here already (orders re-emitting)."""


class PaymentRepository(Protocol):
    """Payment attempts read on their own (they change only through their locked order)."""

    def get(self, payment_id: str, *, with_refunds: bool = True) -> Payment | None:
        """`with_refunds=False` when the caller never looks at them: one statement, not two."""

    def record_charge_accepted(self, payment_id: str, charge_id: str) -> str | None:
        """Payment.record_charge without locking the order (the charge id only ever goes from none to
        this gateway's). Returns the attempt's status as found (None: no such attempt)."""

    def id_by_reference(self, reference: str) -> str | None:
        """The bank transfer with this reference."""

    def reference_taken(self, reference: str) -> bool: ...
    def awaiting_submission(self, updated_before: datetime, limit: int = 50) -> list[Payment]: ...
    def page(self, order_id: str, limit: int, cursor: str | None) -> Page: ...


class RefundRepository(Protocol):
    def get(self, refund_id: str) -> Refund | None: ...
    def awaiting_submission(self, updated_before: datetime, limit: int = 50) -> list[Refund]: ...


class RevokedKeyRepository(Protocol):
    def deny(self, merchant_id: str, key_id: str, revoked_at: datetime) -> None:
        """Put the key on this service's own denylist (a second revocation changes nothing)."""


class UnitOfWork(Protocol):
    merchants: MerchantRepository
    orders: OrderRepository
    payments: PaymentRepository
    refunds: RefundRepository
    revoked_keys: RevokedKeyRepository

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc_info: object) -> None: ...
    def commit(self) -> None: ...
    def emit(self, type: str, data: dict[str, Any], version: int = 1) -> Any: ...


@dataclass(frozen=True)
class Deps:
    """Everything a handler needs besides its unit of work, wired once in bootstrap.

    `uow_factory`: payments' use cases call gateways, and never inside a transaction (docs/architecture.md
    7.5): a use case that sends a charge or refund commits, calls the gateway, then records its answer
    in a unit of work of its own; so do the sweeper and the follow-ups, which have no unit of work
    handed to them."""

    clock: Clock
    new_id: Callable[[str], str]
    uow_factory: Callable[[], UnitOfWork]
    gateways: Mapping[str, CardGateway]
    card_gateway: str             # the gateway that takes new card payments
    bank_account: BankAccount
    public_url: str               # PAYMENTS_PUBLIC_URL: where gateways post their notifications
    resubmit_after: timedelta = timedelta(seconds=30)
    give_up_after: timedelta = timedelta(minutes=15)
    # Runs a callback once the request's transaction committed (tillkey.platform.request_tx, wired in
    # bootstrap): a charge is sent only for an attempt that exists. At once where there is none.
    after_commit: Callable[[Callable[[], None]], None] = lambda callback: callback()

    def notification_url(self, gateway: str) -> str:
        return f"{self.public_url.rstrip('/')}/v1/gateways/{gateway}/notifications"

    def gateway(self, name: str | None) -> CardGateway:
        return self.gateways[name or self.card_gateway]
