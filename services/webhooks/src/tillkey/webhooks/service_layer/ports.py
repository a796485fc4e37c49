"""What the use cases need from the outside world; adapters (and the tests' fakes) provide it."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from tillkey.webhooks.domain.model import Attempt, Delivery, Endpoint, OrderRecord, WebhookEvent
from tillkey.webhooks.domain.policy import SendResult

# Raises ValueError with a message fit for the merchant (the SSRF guard, configured in bootstrap).
UrlCheck = Callable[[str], None]
# A delivery as the worker reads it: with its event's body as stored now, and its endpoint.
DeliveryToSend = tuple[Delivery, str, Endpoint]


class Clock(Protocol):
    def now(self) -> datetime: ...


class Sender(Protocol):
    def send(self, url: str, body: str, headers: dict[str, str]) -> SendResult:
        """POST `body` once; never raises for anything the receiver or the network does."""


@dataclass(frozen=True)
class Deps:
    """Everything a handler needs besides its unit of work, wired once in bootstrap."""

    clock: Clock
    new_id: Callable[[str], str]
    new_secret: Callable[[], str]  # an endpoint's signing secret (tillkey.contracts.signing.new_secret)
    check_url: UrlCheck


class EndpointRepository(Protocol):
    def add(self, endpoint: Endpoint) -> None: ...

    def get(self, merchant_id: str, endpoint_id: str, *, lock: bool = False) -> Endpoint | None:
        """The merchant's live endpoint; another merchant's or a deleted one is simply not found."""

    def by_id(self, endpoint_id: str, *, lock: bool = False) -> Endpoint | None: ...

    def page(self, merchant_id: str, limit: int, cursor: str | None) -> tuple[list[Endpoint], str | None]:
        """The merchant's live endpoints, newest first, and the cursor of the next page (or None)."""

    def live(self, merchant_id: str) -> list[Endpoint]:
        """The merchant's enabled endpoints, read once per unit of work (only read, never written)."""

    def load_live(self, merchant_ids: Set[str]) -> None:
        """Read the enabled endpoints of these merchants in one query, for `live` (a batch's prefetch)."""

    def locked(self, endpoint_ids: list[str]) -> dict[str, Endpoint]:
        """Locked in id order; what settling an attempt changes on them is written at commit."""

    def disabled(self) -> list[Endpoint]:
        """Every merchant's endpoints disabled and not deleted, in id order (an operator's list)."""


class OrderRecordRepository(Protocol):
    def get(self, order_id: str) -> OrderRecord | None:
        """Locked: two consumers taking two events of one order must not hand out the same sequence.
        What changes on it is written before the transaction's next read of these tables, or at commit."""

    def lock(self, order_ids: Set[str]) -> None:
        """Read and lock these records in one query (a batch's prefetch); `get` then answers from memory."""

    def add(self, record: OrderRecord) -> None:
        """Written with the transaction's other new records before its next read, or at commit."""

    def owner(self, order_id: str) -> str | None:
        """The merchant of an order taken in here (read only: no lock, no sequence)."""


class EventRepository(Protocol):
    def add(self, event: WebhookEvent) -> None:
        """Written with the transaction's other new events (one INSERT) before its next read, or at commit."""

    def get(self, event_id: str) -> WebhookEvent | None: ...
    def by_ids(self, event_ids: list[str]) -> dict[str, WebhookEvent]: ...
    def of_order(self, order_id: str) -> list[WebhookEvent]: ...


class DeliveryRepository(Protocol):
    def add(self, delivery: Delivery) -> None:
        """Written after its event, with the transaction's other new deliveries (one INSERT), before
        its next read or at commit."""

    def get(self, delivery_id: str, *, merchant_id: str | None = None, lock: bool = False) -> Delivery | None: ...

    def page(self, merchant_id: str, *, endpoint_id: str | None, event_id: str | None, status: str | None,
             limit: int, cursor: str | None, order_id: str | None = None) -> tuple[list[Delivery], str | None]: ...

    def attempts_of(self, delivery_ids: list[str]) -> dict[str, list[Attempt]]:
        """Attempts of a page of deliveries in one query, oldest first."""

    def attempts_of_events(self, event_ids: list[str]) -> list[Attempt]:
        """Every attempt of every delivery of these events (to erase echoes of their bodies)."""

    def claim_due(self, now: datetime, limit: int, skip_endpoints: Set[str] = frozenset()) -> list[DeliveryToSend]:
        """Due pending deliveries, oldest first, locked so a second worker skips them."""

    def lease(self, delivery_ids: list[str], until: datetime) -> None: ...

    def to_settle(self, delivery_ids: list[str]) -> dict[str, DeliveryToSend]:
        """The deliveries whose attempts are being recorded, locked in id order; their endpoints
        as read, NOT locked (`EndpointRepository.locked` locks the ones an attempt may change)."""

    def save_settled(self, attempts: list[Attempt], deliveries: Iterable[Delivery]) -> None:
        """Attempts in one INSERT and what settling changed on their deliveries in one UPDATE."""

    def abandon_pending(self, endpoint_id: str) -> None:
        """A disabled or deleted endpoint's pending deliveries end `failed` (redeliver brings one back)."""


class RevokedApiKeyRepository(Protocol):
    def deny(self, merchant_id: str, key_id: str, revoked_at: datetime) -> None:
        """Put the key on this service's own denylist (the Authenticator refuses it)."""


class UnitOfWork(Protocol):
    endpoints: EndpointRepository
    order_records: OrderRecordRepository
    events: EventRepository
    deliveries: DeliveryRepository
    revoked_api_keys: RevokedApiKeyRepository

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc_info: object) -> None: ...
    def commit(self) -> None: ...
    def emit(self, type: str, data: dict[str, Any], version: int = 1) -> Any: ...

    def sending_lease(self) -> timedelta | None:
        """The lease to write on deliveries this transaction creates for this process's worker to
        send; None: no worker here, they wait for its poll."""

    def hand_off(self, job: Any) -> None:
        """`job` goes to this process's delivery worker when, and only if, this transaction commits."""
