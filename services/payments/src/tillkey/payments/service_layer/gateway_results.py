"""A gateway's signed, asynchronous result: a charge or refund succeeded or failed.

Trust rules, in order: the adapter verifies signature and freshness before anything is read
(a forged or replayed-late callback changes nothing); the notification id is recorded in the
same transaction as its effect (a redelivery has no second effect); the amount, currency and
charge must match what we asked for (a mismatch is refused and changes nothing — a genuine
gateway never sends one, so it is logged loudly for support).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from tillkey.payments.domain.errors import Invalid, NotFound
from tillkey.payments.domain.failures import customer_message
from tillkey.payments.domain.model import Payment
from tillkey.payments.domain.refunds import Refund
from tillkey.payments.service_layer import views
from tillkey.payments.service_layer.gateway_port import GatewayNotification
from tillkey.payments.service_layer.ports import Deps, UnitOfWork
from tillkey.payments.service_layer.submission import announce_refund, submit_refund

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApplyGatewayNotification:
    gateway: str
    headers: Mapping[str, str]
    body: bytes


class NotificationMismatch(Invalid):
    code = "notification_mismatch"


def apply_notification(cmd: ApplyGatewayNotification, uow: UnitOfWork, deps: Deps) -> str:
    """→ "applied", "duplicate" or "ignored". Raises InvalidNotification (not from the gateway),
    NotificationMismatch (does not match our records), NotFound (no such gateway)."""
    gateway = deps.gateways.get(cmd.gateway)
    if gateway is None:
        raise NotFound(f"No gateway called {cmd.gateway!r}.")
    note = gateway.parse_notification(cmd.headers, cmd.body)
    ref = note.reference
    # A charge's result reads the order's refunds only if it touches them (they load on first
    # touch): a failure never does, a success only for an attempt no longer open
    # (Order.accept_charge). A refund's result reads them all. The notification is recorded in the
    # same transaction, after the order's lock (the same one delivered twice at once: the second
    # waits for the first and finds it recorded).
    order, new = uow.orders.of_notification(cmd.gateway, note.notification_id, note.type, ref, deps.clock.now(),
                                            is_refund=note.is_refund)
    if order is None:
        # Not ours (another installation sharing a gateway account?): acknowledge, or the
        # gateway would retry for a day something we can never act on.
        log.warning("%s notification %s names unknown %s; ignored", cmd.gateway, note.notification_id,
                    note.reference)
        return "ignored"
    if not new:
        return "duplicate"
    # From the locked order's own collections: the aggregate is loaded once, not twice.
    target: Payment | Refund = next(t for t in (order.refunds if note.is_refund else order.payments)
                                    if (t.refund_id if isinstance(t, Refund) else t.payment_id) == ref)
    _ensure_matches(note, target)
    now = deps.clock.now()
    refund_id = None
    if isinstance(target, Refund):
        if order.settle_refund(target, note.succeeded, now, note.failure_code, note.failure_message):
            announce_refund(order, target, uow)
        target.gateway_refund_id = target.gateway_refund_id or note.refund_id
        if not note.succeeded:
            log.error("refund %s failed at %s: %s", target.refund_id, cmd.gateway, note.failure_code)
    elif note.succeeded:
        result = order.accept_charge(target, note.charge_id, deps.new_id("re"), now)
        if result.accepted:
            uow.emit("payment.succeeded", views.succeeded_data(order, target))
        if result.refund is not None:
            refund_id = result.refund.refund_id
            log.warning("extra charge %s for %s (order %s is %s): refunding it as %s", note.charge_id,
                        target.payment_id, order.order_id, order.status, refund_id)
    else:
        target.record_charge(note.charge_id)
        code = note.failure_code or "charge_failed"
        if target.fail(code, customer_message(code, note.failure_message), now):
            uow.emit("payment.failed", views.failed_data(order, target))
    uow.commit()
    if refund_id is not None:
        submit_refund(refund_id, deps)  # after the commit: the refund row exists whatever happens here
    return "applied"


def _ensure_matches(note: GatewayNotification, target: Payment | Refund) -> None:
    expected_charge = target.charge_id
    problems = []
    if note.amount != target.amount or note.currency != target.currency:
        problems.append(f"{note.amount} {note.currency} instead of {target.amount} {target.currency}")
    if expected_charge is not None and note.charge_id != expected_charge:
        problems.append(f"charge {note.charge_id} instead of {expected_charge}")
    refund_id = target.gateway_refund_id if isinstance(target, Refund) else None
    if refund_id is not None and note.refund_id != refund_id:
        problems.append(f"refund {note.refund_id} instead of {refund_id}")
    if problems:
        log.error("refused %s notification %s for %s: %s", note.type, note.notification_id, note.reference,
                  "; ".join(problems))
        raise NotificationMismatch("The notification does not match the payment it names: " + "; ".join(problems))
