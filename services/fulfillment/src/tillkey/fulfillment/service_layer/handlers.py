"""The one table of use cases: command type → handler (HANDLERS), and event type → the handlers of
the other services' events (EVENT_HANDLERS), which are here too.

Fulfillment keeps its own copy of products and orders, learned from events. Each event handler
runs in one unit of work with its inbox row (see InboxDispatcher), so a redelivered message has no
second effect; the checks below make a different message with the same meaning harmless too. The
inbox records each by its declared name: never change one (docs/architecture.md).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from tillkey.contracts import Envelope
from tillkey.fulfillment.domain.model import Delivery, Order, Product
from tillkey.fulfillment.service_layer import key_management, licensing, merchant, views, web_service
from tillkey.fulfillment.service_layer.fulfilling import start_line
from tillkey.fulfillment.service_layer.licensing import erase_order_keys, revoke_on_full_refund
from tillkey.fulfillment.service_layer.ports import Deps, UnitOfWork
from tillkey.messaging import RetryLater
from tillkey.messaging.handling import declared


def remember_product(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    data = event.data
    as_of = datetime.fromisoformat(event.occurred_at)
    product = uow.products.get(data["product_id"])
    if product is None:
        uow.products.add(Product(data["product_id"], data["merchant_id"], data["name"], data["active"], as_of))
    else:
        product.revise(data["merchant_id"], data["name"], data["active"], as_of)


def remember_order(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    data = event.data
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
    uow.orders.add_unless_known(order)  # known already (orders said it again): nothing changes


def erase_customer(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    order = uow.orders.get(event.data["order_id"])
    if order is None:
        # order.created may still be on its retry path: the erasure must not be lost meanwhile.
        raise RetryLater(f"order {event.data['order_id']} is not known here yet")
    order.erase()
    erase_order_keys(uow, order.order_id, deps.clock.now())


def revoke_keys_of_refunded_order(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    """payment.refunded: a full refund (the order now `refunded`) revokes the order's generated keys
    where the product says so (`revoke_on_refund`, default true); a partial one leaves them.

    A refund can overtake order.paid here (events of different producers are not ordered, and
    order.paid may be on its retry path): until every line has started, the keys it would revoke
    may not exist yet, so it waits for them rather than leave them valid."""
    if event.data["order_status"] != "refunded":
        return
    order = uow.orders.get(event.data["order_id"], lock=True)
    if order is None or any(line.not_started for line in order.deliveries):
        raise RetryLater(f"order {event.data['order_id']} is not delivered here yet; its keys may follow")
    revoke_on_full_refund(uow, order.order_id, deps.clock.now())


def start_fulfillment(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    """order.paid: deliver every line not started yet, each by its product's source.

    Not payments' payment.succeeded: a charge can succeed while support cancels the order, and only
    orders decides which one won (docs/cancel-vs-pay.md)."""
    order = uow.orders.get(event.data["order_id"], lock=True)
    if order is None:
        # Events of different producers are not ordered: order.created may still be on its way.
        raise RetryLater(f"order {event.data['order_id']} is not known here yet")
    order.mark_paid()
    now = deps.clock.now()
    for line in order.deliveries:
        if line.not_started:  # a second payment event (or a redelivery) starts nothing twice
            start_line(uow, deps, order, line, now)


def deny_revoked_api_key(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    """`merchant.api_key_revoked` → this service's denylist (docs/architecture.md: every service keeps
    its own)."""
    uow.revoked_keys.deny(event.data["merchant_id"], event.data["key_id"], datetime.fromisoformat(event.occurred_at))


EVENT_HANDLERS = {
    "product.created": [declared("remember_product", remember_product)],
    "product.updated": [declared("remember_product", remember_product)],
    "order.created": [declared("remember_order", remember_order)],
    "order.deleted": [declared("erase_customer", erase_customer)],
    "order.paid": [declared("start_fulfillment", start_fulfillment)],
    "payment.refunded": [declared("revoke_keys_of_refunded_order", revoke_keys_of_refunded_order)],
    # Every service keeps its own denylist of revoked API keys (docs/architecture.md).
    "merchant.api_key_revoked": [declared("deny_revoked_api_key", deny_revoked_api_key)],
}

HANDLERS: dict[type, Callable[[Any, UnitOfWork, Deps], Any]] = {
    merchant.ConfigureSource: merchant.configure_source,
    merchant.UploadKeys: merchant.upload_keys,
    merchant.DeliverByHand: merchant.deliver_by_hand,
    views.GetLicenseSource: views.get_license_source,
    views.GetPoolStats: views.get_pool_stats,
    views.ListDeliveries: views.list_deliveries,
    views.ListProductKeys: views.list_product_keys,
    views.ListOrderKeys: views.list_order_keys,
    views.ListActivations: views.list_activations,
    key_management.RevokeKey: key_management.revoke_key,
    key_management.ReinstateKey: key_management.reinstate_key,
    key_management.ChangeActivationLimit: key_management.change_activation_limit,
    key_management.RemoveActivation: key_management.remove_activation,
    licensing.ValidateLicense: licensing.validate,
    licensing.ActivateLicense: licensing.activate,
    licensing.DeactivateLicense: licensing.deactivate,
    web_service.ClaimDueCalls: web_service.claim_due,
    web_service.SecondsUntilDue: web_service.seconds_until_due,
    web_service.RecordCall: web_service.record,
}
