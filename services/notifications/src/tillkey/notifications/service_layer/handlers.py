"""Event handlers: notifications keeps its own copy of who to write to, learned from events."""
from __future__ import annotations

from tillkey.contracts import Envelope
from tillkey.messaging import RetryLater
from tillkey.notifications.domain.model import MerchantContact, OrderRecipient


def remember_merchant(event: Envelope, uow) -> None:
    data = event.data
    contact = uow.merchant(data["merchant_id"])
    if contact is None:
        uow.add(MerchantContact(data["merchant_id"], data["name"], data["email"]))
    else:
        contact.name, contact.email = data["name"], data["email"]


def remember_recipient(event: Envelope, uow) -> None:
    data = event.data
    if uow.recipient(data["order_id"]) is not None:
        return
    customer = data["customer"]
    uow.add(OrderRecipient(order_id=data["order_id"], merchant_id=data["merchant_id"],
                           email=customer["email"], first_name=customer["first_name"],
                           locale=(customer.get("locale") or "en")))


def erase_recipient(event: Envelope, uow) -> None:
    recipient = uow.recipient(event.data["order_id"])
    if recipient is None:
        # order.created may still be on its retry path; ignoring this would let its personal
        # data arrive afterwards and never be erased.
        raise RetryLater(f"order {event.data['order_id']} is not known here yet")
    recipient.erase()


HANDLERS = {
    "merchant.registered": [remember_merchant],
    "order.created": [remember_recipient],
    "order.deleted": [erase_recipient],
}
