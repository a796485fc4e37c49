"""The message log: what was emailed, to whom, and whether it went out."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MessageQuery:
    merchant_id: str | None  # None: every merchant's (admin)
    order_id: str | None = None
    to: str | None = None
    status: str | None = None  # "failed": the emails given up on (the support console's list)
    limit: int = 50
    cursor: str | None = None


def order_owner(order_id: str, uow) -> str | None:
    """The merchant of an order known here, or None (the caller answers 404 either way)."""
    with uow:
        recipient = uow.recipient(order_id)
        return recipient.merchant_id if recipient else None


def list_messages(query: MessageQuery, uow):
    with uow:
        return uow.messages_page(merchant_id=query.merchant_id, order_id=query.order_id, to=query.to,
                                 status=query.status, limit=query.limit, cursor=query.cursor)
