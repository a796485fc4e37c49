"""Sending committed charges and refunds to their gateway, and resuming the ones a crash interrupted.

Each call: read what to send (short transaction, nothing held), call the gateway (no transaction
open), record its answer (second transaction, order row locked). The idempotency key is derived
from our own id, so sending the same attempt again — the sweeper after a crash, or both the API
and the sweeper at once — is one charge to the gateway.
"""
from __future__ import annotations

import logging

from tillkey.payments.domain.failures import GATEWAY_UNAVAILABLE, customer_message
from tillkey.payments.service_layer.deps import PaymentDeps, announce_refund, failed_data
from tillkey.payments.service_layer.gateway_port import GatewayRejected, TransientGatewayError
from tillkey.platform.clock import as_utc

log = logging.getLogger(__name__)


def submit_charge(payment_id: str, deps: PaymentDeps, *, fail_if_unreachable: bool) -> None:
    """`fail_if_unreachable`: the customer is waiting (API) — an unreachable gateway fails the attempt
    at once so they can retry; the sweeper instead retries until `give_up_after`."""
    with deps.uow_factory() as uow:
        payment = uow.payment(payment_id, with_refunds=False)
        if payment is None or not payment.awaits_submission:
            return
        gateway_name, token = payment.gateway, payment.gateway_token
        amount, currency, created_at = payment.amount, payment.currency, payment.created_at
        give_up = uow.clock.now() - as_utc(created_at) >= deps.give_up_after
    gateway = deps.gateway(gateway_name)
    try:
        charge = gateway.charge(payment_id, token, amount, currency, deps.notification_url(gateway.name))
    except TransientGatewayError as exc:
        log.warning("charge for %s not accepted by %s: %s", payment_id, gateway.name, exc.detail)
        if fail_if_unreachable or give_up:
            _fail(payment_id, GATEWAY_UNAVAILABLE, None, deps)
        return
    except GatewayRejected as exc:
        log.info("charge for %s refused by %s: %s (%s)", payment_id, gateway.name, exc.code, exc.detail)
        _fail(payment_id, exc.code, exc.detail, deps)
        return
    with deps.uow_factory() as uow:
        uow.record_charge_accepted(payment_id, charge.charge_id)
        uow.commit()
    log.info("charge %s accepted by %s for %s", charge.charge_id, gateway.name, payment_id)


def _fail(payment_id: str, code: str, gateway_message: str | None, deps: PaymentDeps) -> None:
    with deps.uow_factory() as uow:
        order = uow.order(charge_order_id(uow, payment_id), lock=True)
        payment = next(p for p in order.payments if p.payment_id == payment_id)
        if payment.fail(code, customer_message(code, gateway_message), uow.clock.now()):
            uow.emit("payment.failed", failed_data(order, payment))
        uow.commit()


def charge_order_id(uow, payment_id: str) -> str:
    return uow.order_id_of(payment_id=payment_id)


def submit_refund(refund_id: str, deps: PaymentDeps) -> None:
    """A refund the gateway cannot take now stays pending and the sweeper tries again."""
    with deps.uow_factory() as uow:
        refund = uow.refund(refund_id)
        if refund is None or not refund.awaits_submission:
            return
        gateway_name, charge_id, amount = refund.gateway, refund.charge_id, refund.amount
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
            refund = uow.refund(refund_id)
            order = uow.order(refund.order_id, lock=True)
            refund = uow.refund(refund_id)  # reloaded under the order's lock
            if order.settle_refund(refund, False, uow.clock.now(), exc.code, exc.detail[:500]):
                announce_refund(order, refund, uow)
            uow.commit()
        return
    with deps.uow_factory() as uow:
        refund = uow.refund(refund_id)
        uow.order(refund.order_id, lock=True)
        refund.gateway_refund_id = refund.gateway_refund_id or accepted.refund_id
        uow.commit()
    log.info("refund %s accepted by %s as %s", refund_id, gateway.name, accepted.refund_id)


def resume_interrupted(deps: PaymentDeps) -> int:
    """The sweeper's pass: charges and refunds committed here that no gateway acknowledged yet."""
    with deps.uow_factory() as uow:
        before = uow.clock.now() - deps.resubmit_after
        payment_ids = [p.payment_id for p in uow.payments_awaiting_submission(before)]
        refund_ids = [r.refund_id for r in uow.refunds_awaiting_submission(before)]
    for payment_id in payment_ids:
        submit_charge(payment_id, deps, fail_if_unreachable=False)
    for refund_id in refund_ids:
        submit_refund(refund_id, deps)
    return len(payment_ids) + len(refund_ids)

