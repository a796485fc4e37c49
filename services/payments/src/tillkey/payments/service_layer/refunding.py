"""Refunds orders asks for (`refund.requested`), their outcome told back (`payment.refunded` or
`refund.failed`), and support confirming a bank-transfer refund it paid out by hand.

Orders reserved the amount before asking, so every request ends in exactly one answer event for
its refund id: orders adds it to `refunded_amount`, or releases the reservation. Refunds of extra
charges that we start ourselves (`automatic`) are not the order's money: they never produce an
answer event and stay visible only on the payment they belong to.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from tillkey.contracts import Envelope
from tillkey.messaging import RetryLater
from tillkey.payments.domain.errors import NotFound
from tillkey.payments.domain.refunds import NoPaymentToRefund, Refund, failure_message
from tillkey.payments.service_layer import views
from tillkey.payments.service_layer.ports import Deps, UnitOfWork
from tillkey.payments.service_layer.submission import announce_refund, submit_refund

log = logging.getLogger(__name__)


def request_refund(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    """Handler of `refund.requested`: the refund row commits with the message (the inbox makes a
    redelivery harmless; the refund id, orders' own, makes a re-sent request harmless too). A card
    refund goes to the gateway right after that commit (`submit_requested_refund`), or the sweeper
    sends it; a bank-transfer refund waits for support to pay it out."""
    data = event.data
    order = uow.orders.get(data["order_id"], lock=True)
    if order is None:
        raise RetryLater(f"order {data['order_id']} is not known here yet")
    # The order's refunds first: one requested earlier in this transaction (a batch) is written
    # only when it commits.
    if any(r.refund_id == data["refund_id"] for r in order.refunds) or uow.refunds.get(data["refund_id"]) is not None:
        log.info("refund %s was requested before; no second effect", data["refund_id"])
        return
    now = deps.clock.now()
    try:
        refund = order.request_refund(data["refund_id"], data["amount"], data["currency"], data["reason"], now)
    except NoPaymentToRefund as exc:
        # Orders only refunds what it saw paid, so this is a contradiction for support to look at;
        # answering still releases orders' reservation instead of leaving it pending for ever.
        log.error("refund %s refused: %s", data["refund_id"], exc.detail)
        uow.emit("refund.failed", views.refund_failed_data(order, data["refund_id"], data["amount"], exc.code,
                                                           failure_message(exc.code)))
        return
    if refund.status == "failed":
        log.warning("refund %s of order %s refused: %s", refund.refund_id, order.order_id, refund.failure_code)
    announce_refund(order, refund, uow)


# -- follow-ups: after the dispatcher committed an event (handlers.FOLLOW_UPS, follow_ups.py) ------------

def submit_requested_refund(event: Envelope, deps: Deps) -> None:
    """After the dispatcher committed `refund.requested`: send a card refund to its gateway now
    rather than on the sweeper's next pass. Runs on every delivery (a no-op once acknowledged)."""
    submit_refund(event.data["refund_id"], deps)


def submit_closing_refunds(event: Envelope, deps: Deps) -> None:
    """After the dispatcher committed `order.canceled` or `order.deleted`: a payment that succeeded
    here while orders closed the order (docs/cancel-vs-pay.md) goes back to the customer now, not
    after PAYMENTS_GATEWAY_RESUBMIT_AFTER on the sweeper's pass."""
    with deps.uow_factory() as uow:
        order = uow.orders.get(event.data["order_id"])
        waiting = [r.refund_id for r in order.refunds if r.awaits_submission] if order is not None else []
    for refund_id in waiting:
        submit_refund(refund_id, deps)


# -- support ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConfirmRefund:
    refund_id: str


def confirm_refund(cmd: ConfirmRefund, uow: UnitOfWork, deps: Deps) -> Refund:
    """Support paid a bank-transfer refund out by hand → succeeded, and orders is told."""
    order = uow.orders.of_refund(cmd.refund_id)
    if order is None:
        raise NotFound("No such refund.")
    refund = next(r for r in order.refunds if r.refund_id == cmd.refund_id)  # read under the order's lock
    order.confirm_manual_refund(refund, deps.clock.now())
    announce_refund(order, refund, uow)
    uow.commit()
    # As committed, read again for the answer (the edge dumps it after this unit of work ended).
    return _refund(uow, cmd.refund_id)


def _refund(uow: UnitOfWork, refund_id: str) -> Refund:
    refund = uow.refunds.get(refund_id)
    if refund is None:
        raise RuntimeError(f"refund {refund_id} committed a moment ago is not there")
    return refund
