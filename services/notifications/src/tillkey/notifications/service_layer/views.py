"""Read models: the queries behind the API's lists (the message log).

The API answer itself is the marshmallow schema of entrypoints/schemas.py (MessageOut), which
also generates /openapi.json; these return the domain objects it dumps.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tillkey.notifications.domain.messages import Message
from tillkey.notifications.service_layer.ports import Deps, UnitOfWork


@dataclass(frozen=True)
class GetOrderOwner:
    """The merchant of an order known here, or None (the caller answers 404 either way)."""

    order_id: str


def order_owner(query: GetOrderOwner, uow: UnitOfWork, deps: Deps) -> str | None:
    recipient = uow.recipients.get(query.order_id)
    return recipient.merchant_id if recipient else None


@dataclass(frozen=True)
class ListMessages:
    """The message log: what was emailed, to whom, and whether it went out."""

    merchant_id: str | None  # None: every merchant's (admin)
    order_id: str | None = None
    to: str | None = None
    status: str | None = None  # "failed": the emails given up on (the support console's list)
    limit: int = 50
    cursor: str | None = None


def list_messages(query: ListMessages, uow: UnitOfWork, deps: Deps) -> tuple[list[Message], str | None]:
    """Newest first, and the cursor of the next page (or None)."""
    return uow.messages.page(merchant_id=query.merchant_id, order_id=query.order_id, to=query.to,
                             status=query.status, limit=query.limit, cursor=query.cursor)


@dataclass(frozen=True)
class ListFailedEmails:
    """The emails given up on, newest first (`tillkey-admin emails failed`): no address, no bodies."""

    limit: int = 50


def list_failed_emails(query: ListFailedEmails, uow: UnitOfWork, deps: Deps) -> list[dict[str, Any]]:
    return uow.messages.failed(query.limit)
