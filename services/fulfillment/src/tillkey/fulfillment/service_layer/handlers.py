"""Event handlers: fulfillment keeps its own copy of products and orders, learned from events.

Each handler runs in one unit of work with its inbox row (see InboxDispatcher), so a redelivered
message has no second effect; the checks below make a different message with the same meaning
harmless too.
"""
from __future__ import annotations

from datetime import datetime

from tillkey.contracts import Envelope
from tillkey.fulfillment.domain.model import Delivery, Order, Product
from tillkey.fulfillment.service_layer.fulfilling import start_line
from tillkey.messaging import RetryLater


def remember_product(event: Envelope, uow) -> None:
    data = event.data
    as_of = datetime.fromisoformat(event.occurred_at)
    product = uow.product(data["product_id"])
    if product is None:
        uow.add(Product(data["product_id"], data["merchant_id"], data["name"], data["active"], as_of))
    else:
        product.revise(data["merchant_id"], data["name"], data["active"], as_of)


def remember_order(event: Envelope, uow) -> None:
    data = event.data
    if uow.order(data["order_id"]) is not None:
        return
    customer = data["customer"]
    order = Order(order_id=data["order_id"], merchant_id=data["merchant_id"], status=data["status"],
                  created_at=datetime.fromisoformat(data["created_at"]), email=customer["email"],
                  first_name=customer["first_name"], last_name=customer["last_name"],
                  country=customer.get("country"))
    order.deliveries = [
        Delivery(line_id=line["line_id"], order_id=order.order_id, product_id=line["product_id"],
                 quantity=line["quantity"], position=position)
        for position, line in enumerate(data["lines"])
    ]
    uow.add(order)


def erase_customer(event: Envelope, uow) -> None:
    order = uow.order(event.data["order_id"])
    if order is None:
        # order.created may still be on its retry path: the erasure must not be lost meanwhile.
        raise RetryLater(f"order {event.data['order_id']} is not known here yet")
    order.erase()


def start_fulfillment(event: Envelope, uow) -> None:
    """order.paid: deliver every line not started yet, each by its product's source.

    Not payments' payment.succeeded: a charge can succeed while support cancels the order, and only
    orders decides which one won (docs/cancel-vs-pay.md)."""
    order = uow.order(event.data["order_id"], lock=True)
    if order is None:
        # Events of different producers are not ordered: order.created may still be on its way.
        raise RetryLater(f"order {event.data['order_id']} is not known here yet")
    order.mark_paid()
    now = uow.clock.now()
    for line in order.deliveries:
        if line.not_started:  # a second payment event (or a redelivery) starts nothing twice
            start_line(uow, order, line, now)


HANDLERS = {
    "product.created": [remember_product],
    "product.updated": [remember_product],
    "order.created": [remember_order],
    "order.deleted": [erase_customer],
    "order.paid": [start_fulfillment],
}
