"""The one table of use cases: command type → handler (HANDLERS), and event type → inbox handlers
(EVENT_HANDLERS). Notifications keeps its own copy of who to write to, learned from events (the
handlers below), and queues an email for each event that causes one (service_layer/emails.py).

Every handler is `handle(cmd_or_event, uow, deps)`; bootstrap binds `deps` to the event handlers
(tillkey.messaging.handling.bind_deps) before the dispatcher calls them as (event, uow). The
InboxHandler names are what the inbox records: never change one (a redelivered message would look
new). The functions stay in the modules the previous release named them after
(migrations/versions/0003_declared_inbox_names.py).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from tillkey.contracts import Envelope
from tillkey.messaging import InboxHandler, RetryLater
from tillkey.messaging.handling import declared
from tillkey.notifications.domain.model import MerchantContact, OrderLine, OrderRecipient, Product
from tillkey.notifications.service_layer import emails, sending, views
from tillkey.notifications.service_layer.ports import Deps, UnitOfWork


def remember_merchant(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    data = event.data
    contact = uow.merchants.get(data["merchant_id"])
    if contact is None:
        uow.merchants.add(MerchantContact(data["merchant_id"], data["name"], data["email"]))
    else:
        contact.name, contact.email = data["name"], data["email"]
        uow.merchants.save(contact)


def remember_recipient(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    data = event.data
    customer = data["customer"]
    lines = [OrderLine(line_id=line["line_id"], order_id=data["order_id"], product_id=line["product_id"],
                       name=line["name"], quantity=line["quantity"]) for line in data["lines"]]
    if not uow.recipients.add_unless_known(OrderRecipient(
            order_id=data["order_id"], merchant_id=data["merchant_id"], email=customer["email"],
            first_name=customer["first_name"], locale=(customer.get("locale") or "en")), lines):
        return  # known already: the first order.created wrote its lines too
    products: list[Product] = []
    named = uow.products.known(line.product_id for line in lines)  # one query for the order
    for line in lines:
        if line.product_id not in named:
            named.add(line.product_id)
            # A product created before this service listened is still named in merchant emails.
            products.append(Product(line.product_id, data["merchant_id"], line.name))
    uow.products.add_all(products)  # one executemany INSERT


def remember_product(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    data = event.data
    product = uow.products.get(data["product_id"])
    if product is None:
        uow.products.add(Product(data["product_id"], data["merchant_id"], data["name"]))
    else:
        product.name = data["name"]
        uow.products.save(product)


def erase_recipient(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    recipient = uow.recipients.get(event.data["order_id"])
    if recipient is None:
        # order.created may still be on its retry path; ignoring this would let its personal
        # data arrive afterwards and never be erased.
        raise RetryLater(f"order {event.data['order_id']} is not known here yet")
    recipient.erase()
    uow.recipients.save(recipient)
    # The message log keeps what was sent and when, but no longer to whom or what it said
    # (bodies hold the name and license keys); an email still queued is never sent.
    messages = uow.messages.of_order(recipient.order_id)
    for message in messages:
        message.erase()
    uow.messages.save_all(messages, with_content=True)


def deny_revoked_api_key(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    """Every service keeps its own denylist of revoked API keys (tillkey.platform.revoked_keys)."""
    uow.revoked_keys.deny(event.data["merchant_id"], event.data["key_id"], datetime.fromisoformat(event.occurred_at))


EVENT_HANDLERS: dict[str, list[InboxHandler]] = {
    "merchant.registered": [declared("remember_merchant", remember_merchant)],
    "order.created": [declared("remember_recipient", remember_recipient)],
    "order.deleted": [declared("erase_recipient", erase_recipient)],
    "product.created": [declared("remember_product", remember_product)],
    "product.updated": [declared("remember_product", remember_product)],
    "merchant.api_key_revoked": [declared("deny_revoked_api_key", deny_revoked_api_key)],
    # One email each (service_layer/emails.py).
    "payment.pending": [declared("payment_instructions", emails.payment_instructions)],
    "payment.succeeded": [declared("payment_confirmation", emails.payment_confirmation)],
    "product.delivered": [declared("license_delivery", emails.license_delivery)],
    "order.licenses_resend_requested": [declared("license_resend", emails.license_resend)],
    "order.payment_reminder_due": [declared("payment_reminder", emails.payment_reminder)],
    "payment.refunded": [declared("refund_confirmation", emails.refund_confirmation)],
    "license.requested": [declared("license_request", emails.license_request)],
    "license_pool.low": [declared("license_pool_low", emails.license_pool_low)],
    "webhook_endpoint.disabled": [declared("webhook_endpoint_disabled", emails.webhook_endpoint_disabled)],
}

HANDLERS: dict[type, Callable[[Any, UnitOfWork, Deps], Any]] = {
    views.GetOrderOwner: views.order_owner,
    views.ListMessages: views.list_messages,
    # The operator's (`tillkey-admin emails`, entrypoints/admin.py).
    views.ListFailedEmails: views.list_failed_emails,
    sending.RequeueFailedEmails: sending.requeue_failed,
    # The mail sender's (adapters/mail_sender.py): the SMTP call happens between the two, outside any transaction.
    sending.ClaimDueEmails: sending.claim,
    sending.RecordOutcomes: sending.record,
    sending.GetSecondsUntilDue: sending.seconds_until_due,
}
