"""Use cases at the customer's and support's request: start a payment attempt, confirm a bank transfer.

No HTTP call ever runs inside a database transaction: a card attempt is committed first (so it
exists whatever happens next; with an Idempotency-Key, when the request's transaction commits),
then sent to the gateway, then its acknowledgement is recorded in a second transaction (see
submission.py).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from tillkey.contracts import PAYMENT_METHOD_CODES
from tillkey.payments.domain import bank_transfer
from tillkey.payments.domain.errors import Conflict, Invalid, NotFound, NotReady
from tillkey.payments.domain.model import Payment
from tillkey.payments.service_layer import views
from tillkey.payments.service_layer.ports import Deps, UnitOfWork
from tillkey.payments.service_layer.submission import submit_charge

OFFLINE_STATUS = "awaiting_funds"


@dataclass(frozen=True)
class StartPayment:
    order_id: str
    method: str
    payment_token: str | None = None


@dataclass(frozen=True)
class ConfirmPayment:
    payment_id: str


def start_payment(cmd: StartPayment, uow: UnitOfWork, deps: Deps) -> Payment:
    _validate(cmd)
    order = uow.orders.get(cmd.order_id, lock=True, with_refunds=False)  # a new attempt reads no refunds
    if order is None:
        raise NotReady("The order is being prepared; try again in a moment.")
    now = deps.clock.now()
    payment = Payment(payment_id=deps.new_id("pay"), order_id=order.order_id, method=cmd.method, status="pending",
                      amount=order.amount, currency=order.currency, created_at=now, updated_at=now)
    if cmd.method == "card":
        payment.gateway, payment.gateway_token = deps.card_gateway, cmd.payment_token
        order.start_payment(payment, now)
    else:
        payment.status, payment.reference = OFFLINE_STATUS, _unused_reference(uow)
        payment.instructions = bank_transfer.instructions(deps.bank_account, order.amount, order.currency,
                                                          payment.reference, now)
        order.start_payment(payment, now)
        uow.emit("payment.pending", views.pending_data(order, payment))
    uow.commit()
    payment_id = payment.payment_id
    if cmd.method == "card":
        written = _as_written(payment)
        # With an Idempotency-Key the attempt commits with the stored answer (`pending`) when the
        # request ends, and only then goes to the gateway: a charge for an attempt that was rolled
        # back could not exist. Without one, it goes at once and the answer says how it went.
        sent: list[str | None] = []
        deps.after_commit(lambda: sent.append(
            submit_charge(payment_id, deps, fail_if_unreachable=True, written=written)))
        if not sent or sent[0] == "pending":
            # Not sent yet: the request's transaction still holds the attempt, which no one else
            # sees until it commits. Or accepted and still pending: the UPDATE recording that
            # changed only its charge id and token, neither in the answer, and an attempt has no
            # refunds before it is decided. Either way the answer is what was written.
            return written
    return _payment(uow, payment_id)


def confirm_payment(cmd: ConfirmPayment, uow: UnitOfWork, deps: Deps) -> Payment:
    order = uow.orders.of_payment(cmd.payment_id, with_refunds=False)
    if order is None:
        raise NotFound("No such payment.")
    # The locked order's own attempt: the order decides on the objects it holds.
    payment = next(p for p in order.payments if p.payment_id == cmd.payment_id)
    if payment.method != "bank_transfer":
        raise Conflict(f"Only bank transfers are confirmed by hand; this payment is by {payment.method}.",
                       code="payment_not_offline")
    order.confirm_offline(payment, deps.clock.now())
    uow.emit("payment.succeeded", views.succeeded_data(order, payment))
    uow.commit()
    return _payment(uow, cmd.payment_id)


@dataclass(frozen=True)
class FindBankTransfer:
    reference: str


def find_bank_transfer(cmd: FindBankTransfer, uow: UnitOfWork, deps: Deps) -> Payment:
    """Support reconciles by the reference on a bank statement line: the attempt with it (and so
    its order), in any status, so a superseded or already confirmed one is recognised as such."""
    reference = bank_transfer.normalise_reference(cmd.reference)
    if reference is None:
        raise Invalid("Not a bank transfer reference (like TK-7QX2-M4PA).", field="reference")
    payment_id = uow.payments.id_by_reference(reference)
    if payment_id is None:
        raise NotFound("No bank transfer has this reference.")
    return _payment(uow, payment_id)


def _payment(uow: UnitOfWork, payment_id: str) -> Payment:
    """The attempt as committed, with its refunds, for the edge to dump after the unit of work ended
    (leaving it detaches what it read)."""
    payment = uow.payments.get(payment_id)
    if payment is None:
        raise RuntimeError(f"payment {payment_id} committed here is not there")
    return payment


def _as_written(payment: Payment) -> Payment:
    """A copy of a new attempt as its unit of work wrote it, free of that (closed) unit of work for
    the HTTP edge to dump: a new attempt has no refunds."""
    return replace(payment)


def _validate(cmd: StartPayment) -> None:
    if cmd.method not in PAYMENT_METHOD_CODES:
        raise Invalid(f"Unknown payment method {cmd.method!r}; choose one of {', '.join(PAYMENT_METHOD_CODES)}.",
                      field="method")
    if cmd.method == "card" and not cmd.payment_token:
        raise Invalid("A card payment needs the payment_token the gateway returned for the card.",
                      field="payment_token")
    if cmd.method != "card" and cmd.payment_token:
        raise Invalid(f"payment_token is only for card payments, not {cmd.method}.", field="payment_token")


def _unused_reference(uow: UnitOfWork) -> str:
    # A clash is a one-in-10^11 event; the unique index is the last word if two requests race.
    for _ in range(10):
        reference = bank_transfer.new_reference()
        if not uow.payments.reference_taken(reference):
            return reference
    raise RuntimeError("no unused bank transfer reference after 10 tries")
