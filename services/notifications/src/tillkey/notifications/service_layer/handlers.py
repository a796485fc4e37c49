"""Event handlers: notifications keeps its own copy of who to write to, learned from events,
and queues an email for each event that causes one (service_layer.emails)."""
from __future__ import annotations

from functools import partial

from tillkey.contracts import Envelope
from tillkey.messaging import InboxHandler, RetryLater
from tillkey.notifications.domain.model import MerchantContact, OrderLine, OrderRecipient, Product
from tillkey.notifications.service_layer.composing import Composer
from tillkey.notifications.service_layer.emails import EMAIL_HANDLERS
from tillkey.platform.revoked_keys import deny_revoked_api_key


def remember_merchant(event: Envelope, uow) -> None:
    data = event.data
    contact = uow.merchant(data["merchant_id"])
    if contact is None:
        uow.add(MerchantContact(data["merchant_id"], data["name"], data["email"]))
    else:
        contact.name, contact.email = data["name"], data["email"]
        uow.save(contact)


def remember_recipient(event: Envelope, uow) -> None:
    data = event.data
    customer = data["customer"]
    if not uow.add_recipient(OrderRecipient(order_id=data["order_id"], merchant_id=data["merchant_id"],
                                            email=customer["email"], first_name=customer["first_name"],
                                            locale=(customer.get("locale") or "en"))):
        return  # known already: the first order.created wrote its lines too
    rows: list[object] = []
    named = uow.known_products(line["product_id"] for line in data["lines"])  # one query for the order
    for line in data["lines"]:
        rows.append(OrderLine(line_id=line["line_id"], order_id=data["order_id"], product_id=line["product_id"],
                              name=line["name"], quantity=line["quantity"]))
        if line["product_id"] not in named:
            named.add(line["product_id"])
            # A product created before this service listened is still named in merchant emails.
            rows.append(Product(line["product_id"], data["merchant_id"], line["name"]))
    uow.add_all(rows)


def remember_product(event: Envelope, uow) -> None:
    data = event.data
    product = uow.product(data["product_id"])
    if product is None:
        uow.add(Product(data["product_id"], data["merchant_id"], data["name"]))
    else:
        product.name = data["name"]
        uow.save(product)


def erase_recipient(event: Envelope, uow) -> None:
    recipient = uow.recipient(event.data["order_id"])
    if recipient is None:
        # order.created may still be on its retry path; ignoring this would let its personal
        # data arrive afterwards and never be erased.
        raise RetryLater(f"order {event.data['order_id']} is not known here yet")
    recipient.erase()
    uow.save(recipient)
    # The message log keeps what was sent and when, but no longer to whom or what it said
    # (bodies hold the name and license keys); an email still queued is never sent.
    messages = uow.messages_of_order(recipient.order_id)
    for message in messages:
        message.erase()
    uow.save_messages(messages, with_content=True)


def build_handlers(composer: Composer) -> dict:
    """The handler table: one entry per consumed event type. Email handlers get the composer bound."""
    handlers = {
        "merchant.registered": [InboxHandler("remember_merchant", remember_merchant)],
        "order.created": [InboxHandler("remember_recipient", remember_recipient)],
        "order.deleted": [InboxHandler("erase_recipient", erase_recipient)],
        "product.created": [InboxHandler("remember_product", remember_product)],
        "product.updated": [InboxHandler("remember_product", remember_product)],
        # Every service keeps its own denylist of revoked API keys (docs/architecture.md).
        "merchant.api_key_revoked": [InboxHandler("deny_revoked_api_key", deny_revoked_api_key)],
    }
    for type, handler in EMAIL_HANDLERS.items():
        handlers.setdefault(type, []).append(InboxHandler(handler.__name__, partial(handler, composer=composer)))
    return handlers
