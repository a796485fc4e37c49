"""The one table of use cases: command or query type → handler; event type → the handlers that take it
in (each under its stable inbox name); event type → the follow-up that runs once it committed."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from tillkey.contracts import Envelope
from tillkey.messaging import InboxHandler
from tillkey.payments.service_layer import events, gateway_results, paying, refunding, views
from tillkey.payments.service_layer.follow_ups import FollowUp
from tillkey.payments.service_layer.ports import Deps, UnitOfWork

HANDLERS: dict[type, Callable[[Any, UnitOfWork, Deps], Any]] = {
    paying.StartPayment: paying.start_payment,
    paying.ConfirmPayment: paying.confirm_payment,
    paying.FindBankTransfer: paying.find_bank_transfer,
    refunding.ConfirmRefund: refunding.confirm_refund,
    gateway_results.GatewayCallback: gateway_results.apply_callback,
    views.ListPayments: views.list_payments,
    views.GetPayPage: views.pay_page,
}


def _declared(name: str, handle: Callable[[Envelope, UnitOfWork, Deps], None]) -> InboxHandler:
    """InboxHandler(name, handle) for handlers that take deps too: bootstrap binds them
    (bootstrap._with_deps) before the dispatcher calls them as (event, uow)."""
    # cast: InboxHandler annotates `handle` as the dispatcher calls it, (event, uow).
    return InboxHandler(name, cast(Callable[[Envelope, object], object], handle))


# The names are what the inbox records of each message taken: never change one (a redelivered
# message would look new).
EVENT_HANDLERS: dict[str, list[InboxHandler]] = {
    "merchant.registered": [_declared("remember_merchant", events.remember_merchant)],
    "order.created": [_declared("remember_order", events.remember_order)],
    "order.canceled": [_declared("cancel_order", events.cancel_order)],
    "order.deleted": [_declared("delete_order", events.delete_order)],
    "refund.requested": [_declared("request_refund", refunding.request_refund)],
    # Every service keeps its own denylist of revoked API keys (docs/architecture.md).
    "merchant.api_key_revoked": [_declared("deny_revoked_api_key", events.deny_revoked_api_key)],
}

# After the dispatcher committed one of these events: work that calls a gateway, off the
# consumer's thread (follow_ups.DispatchThenFollowUp).
FOLLOW_UPS: dict[str, FollowUp] = {
    "refund.requested": refunding.submit_requested_refund,
    "order.canceled": refunding.submit_closing_refunds,
    "order.deleted": refunding.submit_closing_refunds,
}
