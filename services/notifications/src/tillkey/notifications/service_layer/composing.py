"""Turning a cause into a queued message: who it goes to, in which language, with which links.

Rendering happens here, when the cause is handled, and the finished email is stored: the sender
loop then only moves bytes, and a template change never alters an email already owed.
"""
from __future__ import annotations

import logging
from typing import Any

from tillkey.notifications.domain.language import DEFAULT, language_of
from tillkey.notifications.domain.messages import QUEUED, Message
from tillkey.notifications.domain.model import MerchantContact, OrderRecipient
from tillkey.notifications.service_layer.ports import Deps, UnitOfWork
from tillkey.notifications.service_layer.sending import outgoing
from tillkey.platform.credentials import make_order_token

log = logging.getLogger(__name__)


def order_url(deps: Deps, order_id: str, token: str) -> str:
    """The customer's order page; the token opens that one order only (docs/architecture.md §5)."""
    return f"{deps.orders_public_url}/orders/{order_id}?token={token}"


def pay_url(deps: Deps, order_id: str, token: str) -> str:
    return f"{deps.payments_public_url}/pay/{order_id}?token={token}"


def to_customer(uow: UnitOfWork, deps: Deps, recipient: OrderRecipient, template: str, cause: str,
                context: dict[str, Any]) -> Message | None:
    if recipient.email is None:
        # The order was deleted and its personal data erased: there is nobody left to write to.
        log.info("%s for %s not sent: the customer's data was erased", template, recipient.order_id)
        return None
    merchant = uow.merchants.get(recipient.merchant_id)
    order_id = recipient.order_id
    token = make_order_token(deps.platform_secret, order_id)  # one HMAC for both links
    full = {"first_name": recipient.first_name, "order_id": order_id,
            "order_url": order_url(deps, order_id, token), "pay_url": pay_url(deps, order_id, token),
            "merchant_name": merchant.name if merchant else None, **context}
    return _queue(uow, deps, cause, template, recipient.email, language_of(recipient.locale), full,
                  order_id=recipient.order_id, merchant_id=recipient.merchant_id)


def to_merchant(uow: UnitOfWork, deps: Deps, merchant: MerchantContact, template: str, cause: str,
                context: dict[str, Any], *, order_id: str | None = None) -> Message | None:
    # Merchants have no locale in their events yet: English, the language every template has.
    full = {"merchant_name": merchant.name, "order_id": order_id, **context}
    return _queue(uow, deps, cause, template, merchant.email, DEFAULT, full,
                  order_id=order_id, merchant_id=merchant.merchant_id)


def _queue(uow: UnitOfWork, deps: Deps, cause: str, template: str, to: str, language: str,
           context: dict[str, Any], *, order_id: str | None, merchant_id: str) -> Message | None:
    rendered = deps.renderer.render(template, language, {**context, "language": language})
    now = deps.clock.now()
    message = Message(message_id=deps.new_id("msg"), cause=cause, template=template, locale=language, to=to,
                      subject=rendered.subject, text_body=rendered.text, html_body=rendered.html,
                      order_id=order_id, merchant_id=merchant_id, created_at=now, next_attempt_at=now,
                      status=QUEUED)
    lease = uow.sending_lease()
    if lease is not None:  # this process's sender takes it straight from the commit (platform.polling.Handoff)
        message.claim(now, lease)
    if not uow.messages.queue(message):
        # Same cause seen before (another event saying the same thing): it is owed once. The
        # unique `cause` decides at the insert (no read first), also between two such events
        # handled at the very same moment; a duplicate (rare) only costs its rendering.
        log.info("%s already queued or sent; not again", cause)
        return None
    if lease is not None:
        uow.hand_off(outgoing(message))
    return message

