"""What the use cases need from the outside world; adapters (and the tests' fakes) provide it:
the unit of work and its repositories, a template renderer, a mail transport, and `Deps`."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from tillkey.notifications.domain.messages import Message
from tillkey.notifications.domain.model import MerchantContact, OrderLine, OrderRecipient, Product

Page = tuple[list[Message], str | None]   # newest first, and the cursor of the next page (or None)


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class Renderer(Protocol):
    def render(self, template: str, language: str, context: dict[str, Any]) -> Rendered: ...


@dataclass(frozen=True)
class Deps:
    """Everything a handler needs besides its unit of work, wired once in bootstrap."""

    clock: Clock
    new_id: Callable[[str], str]
    renderer: Renderer
    platform_secret: str        # signs the customer's order and pay links
    orders_public_url: str      # without a trailing slash
    payments_public_url: str    # without a trailing slash


@dataclass(frozen=True)
class OutgoingEmail:
    """One email as the transport sends it: snapshotted at claim time, no database access while sending."""

    message_id: str          # msg_…, ours
    message_id_header: str   # the cause-derived RFC 5322 Message-ID
    to: str
    subject: str
    text: str
    html: str
    template: str


class MailTransient(Exception):
    """Not sent, try again later: server down, 4xx, a dropped connection, a login the operator will fix."""


class MailRejected(Exception):
    """The server refuses this message for good (5xx for the recipient or the content): retrying cannot help."""


class Mailer(Protocol):
    def send(self, email: OutgoingEmail) -> None:
        """Returns once the server accepted the message; raises MailTransient or MailRejected."""


# -- repositories: one per aggregate. Writes go into the transaction at once (Core statements), so
# a later handler of the same batch reads them; reads of a transaction are remembered until it rolls back.

class MerchantRepository(Protocol):
    def add(self, merchant: MerchantContact) -> None: ...
    def get(self, merchant_id: str) -> MerchantContact | None: ...

    def save(self, merchant: MerchantContact) -> None:
        """Write the name and address the caller changed."""


class RecipientRepository(Protocol):
    def add_unless_known(self, recipient: OrderRecipient, lines: Sequence[OrderLine] = ()) -> bool:
        """INSERT the recipient and the order's lines unless the order is known (then False, and
        nothing written): no read first, and on PostgreSQL one statement for both."""

    def get(self, order_id: str) -> OrderRecipient | None:
        """The order's recipient; its merchant's contact comes with it (the email needs both)."""

    def get_with_line(self, order_id: str, line_id: str) -> tuple[OrderRecipient | None, str | None]:
        """As `get`, with the name of the order's line `line_id` (None: no such line of that order),
        in one query."""

    def save(self, recipient: OrderRecipient) -> None: ...


class OrderLineRepository(Protocol):
    def add_all(self, lines: list[OrderLine]) -> None:
        """One executemany INSERT (nothing for an empty list)."""

    def get(self, line_id: str) -> OrderLine | None: ...


class ProductRepository(Protocol):
    def add(self, product: Product) -> None: ...

    def add_all(self, products: list[Product]) -> None:
        """One executemany INSERT (nothing for an empty list)."""

    def get(self, product_id: str) -> Product | None: ...
    def save(self, product: Product) -> None: ...

    def known(self, product_ids: Iterable[str]) -> set[str]:
        """Which of these products are here already, in one query."""


class MessageRepository(Protocol):
    def queue(self, message: Message) -> bool:
        """INSERT unless a message with its cause exists (then False): the unique cause decides."""

    def save_all(self, messages: list[Message], *, with_content: bool = False) -> None:
        """One executemany UPDATE of their state (and address and bodies, when erased)."""

    def mark_sent(self, message_ids: list[str], now: datetime) -> None:
        """One executemany UPDATE to Message.mark_sent's state, in the order given (the caller's id
        order: rows are locked as every writer locks them), without reading them first."""

    def locked(self, message_ids: list[str]) -> dict[str, Message]:
        """These messages by id, locked until commit (in id order, as every writer locks them)."""

    def of_order(self, order_id: str) -> list[Message]: ...

    def claim_due(self, now: datetime, limit: int) -> list[Message]:
        """Queued messages whose time has come, oldest first, locked so that a second sender skips them."""

    def next_due_at(self) -> datetime | None:
        """When the earliest queued message falls due (a retry, or a lease running out)."""

    def page(self, *, merchant_id: str | None, order_id: str | None, to: str | None, status: str | None,
             limit: int, cursor: str | None) -> Page:
        """The message log, newest first; None filters nothing (merchant_id None: every merchant's)."""

    def failed(self, limit: int) -> list[dict[str, Any]]:
        """The emails given up on, newest first, without address or bodies: message_id, template,
        order_id, attempts, last_error, created_at."""

    def requeue_failed(self, message_ids: list[str] | None, now: datetime) -> int:
        """Queue these failed emails (None: every failed one) again, due at `now`; how many."""


class RevokedKeyRepository(Protocol):
    def deny(self, merchant_id: str, key_id: str, revoked_at: datetime) -> None:
        """Put the key on this service's own denylist (a second revocation of it changes nothing)."""


class UnitOfWork(Protocol):
    merchants: MerchantRepository
    recipients: RecipientRepository
    lines: OrderLineRepository
    products: ProductRepository
    messages: MessageRepository
    revoked_keys: RevokedKeyRepository

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc_info: object) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...

    def sending_lease(self) -> timedelta | None:
        """The lease for emails this transaction queues when this process's sender takes them
        straight from the commit (tillkey.platform.polling.Handoff); None: they wait for a poll."""

    def hand_off(self, job: OutgoingEmail) -> None:
        """`job` goes to this process's sender when, and only if, this transaction commits."""
