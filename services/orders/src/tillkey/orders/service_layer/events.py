"""What orders does with the other services' events: payments' results, fulfillment's deliveries.

Each handler runs in one unit of work with its inbox row (InboxDispatcher), which commits after
it returns: a redelivered message has no second effect, and the order's guarded transitions make
a different message with the same meaning (a second payment.succeeded) harmless too. Every
handler locks the order's row, so it never overwrites a concurrent cancel, deletion or refund.
"""
from __future__ import annotations

import logging
from datetime import datetime

from tillkey.contracts import Envelope
from tillkey.messaging import PermanentError, RetryLater, prefetching
from tillkey.orders.domain.errors import Conflict, NotFound
from tillkey.orders.domain.orders import Order
from tillkey.orders.domain.refunds import settle_refund
from tillkey.orders.service_layer.ports import Deps, UnitOfWork

log = logging.getLogger(__name__)


def _order(event: Envelope, uow: UnitOfWork, lines: bool = True) -> Order:
    """The event's order, locked. `lines=False` for a handler that never looks at its lines (the
    payment's): they are left unread, a statement less per order."""
    order = uow.orders.get(event.data["order_id"], lock=True, lines=lines)
    if order is None:
        # Not here yet (a restored database, a replayed queue, a test): never drop the news, wait for
        # the order on the retry path; after the last delay it is dead-lettered, not lost.
        raise RetryLater(f"order {event.data['order_id']} is not known here yet")
    return order


def _order_ids(events: list[Envelope]) -> list[str]:
    return [oid for oid in (e.data.get("order_id") for e in events) if isinstance(oid, str)]


def _lock_orders(events: list[Envelope], uow: UnitOfWork) -> None:
    """A consumer's batch: the orders of these events locked in one statement, and their lines
    read in one more, instead of two statements per event (`_order` then finds them locked)."""
    uow.orders.lock_many(_order_ids(events))


def _lock_orders_without_lines(events: list[Envelope], uow: UnitOfWork) -> None:
    uow.orders.lock_many(_order_ids(events), lines=False)


def _at(event: Envelope, order: Order, deps: Deps) -> datetime:
    """When it happened (not when we got to it: a retried message is late), never before the order."""
    try:
        at = datetime.fromisoformat(event.occurred_at)
    except (TypeError, ValueError):
        return deps.clock.now()
    return max(at, order.created_at) if at.tzinfo else deps.clock.now()


@prefetching(_lock_orders_without_lines)
def payment_succeeded(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    data = event.data
    order = _order(event, uow, lines=False)
    try:
        moved = order.mark_paid(_at(event, order, deps), method=data["method"])
    except Conflict as exc:
        # A canceled or deleted order was charged (a race with the cancel or the deletion). It stays
        # as it is; payments refunds such a charge on its side, having seen the same order event, and
        # no order.paid goes out, so fulfillment never hands out a license (docs/cancel-vs-pay.md).
        log.warning("payment %s for order %s not applied: %s", data["payment_id"], order.order_id, exc.detail)
        return
    if moved:
        # Orders' word, under the order's row lock that the cancel takes too: exactly one of
        # order.paid and order.canceled exists for an order, and fulfillment starts on this one.
        uow.emit("order.paid", {"order_id": order.order_id, "merchant_id": order.merchant_id,
                                "payment_id": data["payment_id"], "method": data["method"]})
    if (data["amount"], data["currency"]) != (order.total, order.currency):
        log.error("payment %s for order %s is %s %s, the order is %s %s", data["payment_id"], order.order_id,
                  data["amount"], data["currency"], order.total, order.currency)


@prefetching(_lock_orders_without_lines)
def payment_failed(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    data = event.data
    order = _order(event, uow, lines=False)
    order.record_payment_failure(data["method"], data["failure"]["code"], data["failure"]["message"],
                                 _at(event, order, deps))


@prefetching(_lock_orders)
def product_delivered(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    data = event.data
    order = _order(event, uow)
    try:
        completed = order.deliver_line(data["line_id"], data["method"], data["licenses"], data.get("text"),
                                       _at(event, order, deps))
    except NotFound as exc:
        raise PermanentError(exc.detail) from None    # a line of another order: no retry can fix it
    if completed:
        # Orders owns the order's delivery status; fulfillment reports lines only.
        uow.emit("order.delivered", {"order_id": order.order_id, "merchant_id": order.merchant_id})


@prefetching(_lock_orders)
def license_requested(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    order = _order(event, uow)
    try:
        order.line_awaits_merchant(event.data["line_id"], deps.clock.now())
    except NotFound as exc:
        raise PermanentError(exc.detail) from None


def _settle(event: Envelope, uow: UnitOfWork, deps: Deps, succeeded: bool) -> None:
    data = event.data
    # The order first, then its refund: one lock order. Its lines play no part in a refund.
    order = uow.orders.get(data["order_id"], lock=True, lines=False)
    refund = uow.refunds.get(data["refund_id"], lock=True)
    if order is None or refund is None or refund.order_id != order.order_id:
        # Not a refund asked for here: payments refunding a charge that an order refused (canceled,
        # deleted). Nothing was reserved for it and the order's amounts are not about it.
        log.info("%s %s is not a refund orders requested; no effect", event.type, data["refund_id"])
        return
    failure = data.get("failure") or {}
    settle_refund(order, refund, succeeded, data.get("amount", refund.amount), _at(event, order, deps),
                  failure.get("code"), failure.get("message"))


def payment_refunded(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    _settle(event, uow, deps, succeeded=True)


def refund_failed(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    _settle(event, uow, deps, succeeded=False)
