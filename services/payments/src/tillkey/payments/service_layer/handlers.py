"""The one table of use cases: command or query type → handler; event type → the handlers that take it
in (each under its stable inbox name); event type → the follow-up that runs once it committed.

The handlers of the events by which payments keeps its own copy of each order (and of its merchant)
live here too, not in a module of their own: a release before declared inbox names recorded each
message under its handler's module and function name, and the inbox still recognises that name
(InboxHandler.recorded_as; migrations/versions/0007_declared_inbox_names.py lists them as
`tillkey.payments.service_layer.handlers.*`). Each runs in one unit of work with its inbox row (see
InboxDispatcher), so a redelivered message has no second effect; the order's own guards make a
*different* message with the same meaning (orders re-emitting) harmless too.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tillkey.contracts import Envelope
from tillkey.messaging import InboxHandler, PermanentError, RetryLater
from tillkey.messaging.handling import declared
from tillkey.payments.domain.model import InvalidTransition, Merchant, Order, order_summary
from tillkey.payments.service_layer import gateway_results, paying, refunding, views
from tillkey.payments.service_layer.follow_ups import FollowUp
from tillkey.payments.service_layer.ports import Deps, UnitOfWork

log = logging.getLogger(__name__)

HANDLERS: dict[type, Callable[[Any, UnitOfWork, Deps], Any]] = {
    paying.StartPayment: paying.start_payment,
    paying.ConfirmPayment: paying.confirm_payment,
    paying.FindBankTransfer: paying.find_bank_transfer,
    refunding.ConfirmRefund: refunding.confirm_refund,
    gateway_results.ApplyGatewayNotification: gateway_results.apply_notification,
    views.ListPayments: views.list_payments,
    views.GetPayPage: views.pay_page,
}


# -- what payments learns from the other services' events ------------------------------------------------

def remember_merchant(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    data = event.data
    merchant = uow.merchants.get(data["merchant_id"])
    if merchant is None:
        uow.merchants.add(Merchant(data["merchant_id"], data["name"]))
    else:
        merchant.name = data["name"]


def remember_order(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    data = event.data
    order = Order(order_id=data["order_id"], merchant_id=data["merchant_id"], currency=data["currency"],
                  amount=data["total"], status=data["status"], payment_method=data["payment_method"],
                  created_at=datetime.fromisoformat(data["created_at"]), locale=data["customer"].get("locale"),
                  summary=order_summary(data))
    # docs/architecture.md §2.2: nothing to pay; the flow goes on as if paid (fulfillment, emails, webhooks).
    # Decided before the order is written, so that one statement both writes it and tells whether it is new.
    free = None
    if order.amount == 0 and order.status == "not_paid":
        free = order.record_free_payment(deps.new_id("pay"), deps.clock.now())
    if not uow.orders.add_unless_known(order):
        return  # known already: orders said it again
    if free is not None:
        uow.emit("payment.succeeded", views.succeeded_data(order, free))


def cancel_order(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    _close(event, uow, deps, "canceled")


def delete_order(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    _close(event, uow, deps, "deleted")


def _close(event: Envelope, uow: UnitOfWork, deps: Deps, status: str) -> None:
    order = uow.orders.get(event.data["order_id"], lock=True)
    if order is None:
        # order.created may still be on its retry path: wait for it rather than lose the change.
        raise RetryLater(f"order {event.data['order_id']} is not known here yet")
    refunds_before = len(order.refunds)
    try:
        order.close(status, deps.clock.now(), refund_ids=iter(lambda: deps.new_id("re"), None))
    except InvalidTransition as exc:
        # e.g. orders deleted an order refunded here: retrying cannot fix that; dead letters alert support.
        raise PermanentError(str(exc)) from exc
    if len(order.refunds) > refunds_before:
        # Orders closed the order before it heard of our payment.succeeded (a race): orders is the
        # source of truth for the order, so the money goes back. The refund row commits with this
        # message; the worker's sweeper sends it to the gateway (no HTTP inside this transaction).
        log.warning("order %s was %s while paid here: its payment is refunded", order.order_id, status)


def deny_revoked_api_key(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    """`merchant.api_key_revoked` → this service's denylist (docs/architecture.md: every service keeps
    its own)."""
    uow.revoked_keys.deny(event.data["merchant_id"], event.data["key_id"], datetime.fromisoformat(event.occurred_at))


# The names are what the inbox records of each message taken: never change one (a redelivered
# message would look new).
EVENT_HANDLERS: dict[str, list[InboxHandler]] = {
    "merchant.registered": [declared("remember_merchant", remember_merchant)],
    "order.created": [declared("remember_order", remember_order)],
    "order.canceled": [declared("cancel_order", cancel_order)],
    "order.deleted": [declared("delete_order", delete_order)],
    "refund.requested": [declared("request_refund", refunding.request_refund)],
    # Every service keeps its own denylist of revoked API keys (docs/architecture.md).
    "merchant.api_key_revoked": [declared("deny_revoked_api_key", deny_revoked_api_key)],
}

# After the dispatcher committed one of these events: work that calls a gateway, off the
# consumer's thread (follow_ups.DispatchThenFollowUp).
FOLLOW_UPS: dict[str, FollowUp] = {
    "refund.requested": refunding.submit_requested_refund,
    "order.canceled": refunding.submit_closing_refunds,
    "order.deleted": refunding.submit_closing_refunds,
}
