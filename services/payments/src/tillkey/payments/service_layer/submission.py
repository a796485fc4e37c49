"""Sending committed charges and refunds to their gateway, and resuming the ones a crash interrupted.

Each call: read what to send (short transaction, nothing held; not for the attempt the API just
wrote, see `_only_ours`), call the gateway (no transaction open), record its answer (second
transaction). The idempotency key is derived
from our own id, so sending the same attempt again — the sweeper after a crash, or both the API
and the sweeper at once — is one charge to the gateway.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import cast

from tillkey.payments.domain.failures import GATEWAY_UNAVAILABLE, customer_message
from tillkey.payments.domain.model import Order, Payment
from tillkey.payments.domain.refunds import Refund
from tillkey.payments.service_layer import views
from tillkey.payments.service_layer.gateway_port import GatewayRejected, TransientGatewayError
from tillkey.payments.service_layer.ports import Deps, UnitOfWork
from tillkey.platform.clock import as_utc

log = logging.getLogger(__name__)


def submit_charge(payment_id: str, deps: Deps, *, fail_if_unreachable: bool,
                  written: Payment | None = None) -> str | None:
    """`fail_if_unreachable`: the customer is waiting (API) — an unreachable gateway fails the attempt
    at once so they can retry; the sweeper instead retries until `give_up_after`.

    `written`: the attempt as the caller committed it a moment ago (the API), sent as it is while
    nothing but the caller can have sent it yet (`_only_ours`); otherwise it is read again first.
    Returns the attempt's status when the gateway's acceptance was recorded; None when it was not
    sent, or was failed."""
    now = deps.clock.now()
    if written is not None and _only_ours(written, now, deps):
        payment: Payment | None = written
    else:
        with deps.uow_factory() as uow:
            payment = uow.payments.get(payment_id, with_refunds=False)
    if payment is None or not payment.awaits_submission:
        return None
    gateway_name, token = payment.gateway, cast(str, payment.gateway_token)  # awaits_submission: it has one
    amount, currency = payment.amount, payment.currency
    give_up = now - as_utc(payment.created_at) >= deps.give_up_after
    gateway = deps.gateway(gateway_name)
    try:
        charge = gateway.charge(payment_id, token, amount, currency, deps.notification_url(gateway.name))
    except TransientGatewayError as exc:
        log.warning("charge for %s not accepted by %s: %s", payment_id, gateway.name, exc.detail)
        if fail_if_unreachable or give_up:
            _fail(payment_id, GATEWAY_UNAVAILABLE, None, deps)
        return None
    except GatewayRejected as exc:
        log.info("charge for %s refused by %s: %s (%s)", payment_id, gateway.name, exc.code, exc.detail)
        _fail(payment_id, exc.code, exc.detail, deps)
        return None
    with deps.uow_factory() as uow:
        status = uow.payments.record_charge_accepted(payment_id, charge.charge_id)
        uow.commit()
    log.info("charge %s accepted by %s for %s", charge.charge_id, gateway.name, payment_id)
    return status


def _only_ours(written: Payment, now: datetime, deps: Deps) -> bool:
    """Whether the sweeper cannot have taken up this attempt yet: it only takes attempts untouched
    for `resubmit_after` (half of it here: the rest covers clocks that disagree between processes).
    Until then no one but the request that wrote it sends it or records an answer for it, so it is
    as written. (Another request may supersede it meanwhile, as it may right after a read; the
    order pays with a superseded attempt's charge, or refunds it — Order.accept_charge.)"""
    return now - as_utc(written.updated_at) < deps.resubmit_after / 2


def _fail(payment_id: str, code: str, gateway_message: str | None, deps: Deps) -> None:
    with deps.uow_factory() as uow:
        order = _known(uow.orders.of_payment(payment_id, with_refunds=False))  # failing reads no refunds
        payment = next(p for p in order.payments if p.payment_id == payment_id)
        if payment.fail(code, customer_message(code, gateway_message), deps.clock.now()):
            uow.emit("payment.failed", views.failed_data(order, payment))
        uow.commit()


def submit_refund(refund_id: str, deps: Deps) -> None:
    """A refund the gateway cannot take now stays pending and the sweeper tries again."""
    with deps.uow_factory() as uow:
        refund = uow.refunds.get(refund_id)
        if refund is None or not refund.awaits_submission:
            return
        # awaits_submission: it has a gateway, so the charge it gives back
        gateway_name, charge_id, amount = refund.gateway, cast(str, refund.charge_id), refund.amount
    gateway = deps.gateway(gateway_name)
    try:
        accepted = gateway.refund(refund_id, charge_id, amount, deps.notification_url(gateway.name))
    except TransientGatewayError as exc:
        log.warning("refund %s not accepted by %s yet: %s", refund_id, gateway.name, exc.detail)
        return
    except GatewayRejected as exc:
        # Money we owe the customer and could not give back: support must act on it.
        log.error("refund %s refused by %s: %s (%s)", refund_id, gateway.name, exc.code, exc.detail)
        with deps.uow_factory() as uow:
            order = _known(uow.orders.of_refund(refund_id))
            refund = next(r for r in order.refunds if r.refund_id == refund_id)  # read under the order's lock
            if order.settle_refund(refund, False, deps.clock.now(), exc.code, exc.detail[:500]):
                announce_refund(order, refund, uow)
            uow.commit()
        return
    with deps.uow_factory() as uow:
        order = _known(uow.orders.of_refund(refund_id, with_payments=False))
        refund = next(r for r in order.refunds if r.refund_id == refund_id)  # read under the order's lock
        refund.gateway_refund_id = refund.gateway_refund_id or accepted.refund_id
        uow.commit()
    log.info("refund %s accepted by %s as %s", refund_id, gateway.name, accepted.refund_id)


def resume_interrupted(deps: Deps) -> int:
    """The sweeper's pass: charges and refunds committed here that no gateway acknowledged yet."""
    with deps.uow_factory() as uow:
        before = deps.clock.now() - deps.resubmit_after
        payment_ids = [p.payment_id for p in uow.payments.awaiting_submission(before)]
        refund_ids = [r.refund_id for r in uow.refunds.awaiting_submission(before)]
    for payment_id in payment_ids:
        submit_charge(payment_id, deps, fail_if_unreachable=False)
    for refund_id in refund_ids:
        submit_refund(refund_id, deps)
    return len(payment_ids) + len(refund_ids)



def announce_refund(order: Order, refund: Refund, uow: UnitOfWork) -> None:
    """Tell orders (and through webhooks the merchant) how a requested refund ended. Automatic
    refunds and undecided ones say nothing."""
    if refund.automatic or refund.status == "pending":
        return
    if refund.status == "succeeded":
        payment = next(p for p in order.payments if p.payment_id == refund.payment_id)
        uow.emit("payment.refunded", views.refunded_data(order, payment, refund))
    else:
        uow.emit("refund.failed", views.refund_failed_data(order, refund.refund_id, refund.amount,
                                                           refund.failure_code, refund.failure_message))


def _known(order: Order | None) -> Order:
    """The order of an attempt or refund committed before this call: it exists (none is ever deleted)."""
    if order is None:
        raise RuntimeError("an attempt or refund committed here has no order")
    return order
