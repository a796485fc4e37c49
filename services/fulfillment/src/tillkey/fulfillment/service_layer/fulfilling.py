"""Delivering one order line by its product's license source, and the events that say so.

Every path ends in one of three places, inside the caller's transaction: `delivered` (with
`product.delivered`), `awaiting_merchant` (with `license.requested`), or `pending` with a
web-service call due — which the worker itself ends in one of the first two. So a paid line is
never left undelivered without the merchant being asked (docs/architecture.md §2.3).
"""
from __future__ import annotations

from datetime import datetime

from tillkey.fulfillment.domain.model import Delivery, Order
from tillkey.fulfillment.domain.sources import wait_reason_for_pool
from tillkey.fulfillment.service_layer.licensing import issue_keys
from tillkey.fulfillment.service_layer.ports import Deps, UnitOfWork

NO_SOURCE_REASON = "no license source is configured for the product"
MANUAL_SOURCE_REASON = "the product's license source is manual"


def start_line(uow: UnitOfWork, deps: Deps, order: Order, line: Delivery, now: datetime) -> None:
    source = uow.sources.for_delivery(line.product_id)
    method = source.method if source is not None else None
    if method == "email" and source is not None:
        line.deliver("email", [], now)
        emit_delivered(uow, order, line, text=source.text)
    elif method == "pool":
        take_from_pool(uow, order, line, now)
    elif method == "generated" and source is not None:
        line.deliver("generated", issue_keys(uow, deps, order, line, source, now), now)
        emit_delivered(uow, order, line)
    elif method == "web_service":
        line.call_web_service(now)  # the worker calls, outside this transaction
        uow.web_service_call_scheduled()
    else:
        ask_merchant(uow, order, line, MANUAL_SOURCE_REASON if method == "manual" else NO_SOURCE_REASON)


def take_from_pool(uow: UnitOfWork, order: Order, line: Delivery, now: datetime, *,
                   already_waiting: bool = False) -> bool:
    """All of the line's keys at once, or none: a short pool makes the whole line wait."""
    pool = uow.pools.get(line.product_id, lock=True)
    # Only "below the threshold?" matters, and only while the alarm is armed: the claim counts what
    # is left no further than the threshold (the event's figure is exact whenever it is below).
    watch = pool.low_stock_threshold if pool is not None and pool.alarm_armed else 0
    claimed = uow.pools.claim(line.product_id, line.quantity, line.line_id, now, count_left_up_to=watch)
    if claimed is None:
        if not already_waiting:
            # Fewer than the line needs are left, so this count stops below `quantity` by itself.
            available = uow.pools.available(line.product_id, up_to=line.quantity)
            ask_merchant(uow, order, line, wait_reason_for_pool(available, line.quantity), fallback_from="pool")
        return False
    line.deliver("pool", claimed.keys, now)
    emit_delivered(uow, order, line)
    if pool is not None and pool.after_claim(claimed.left):  # a disarmed alarm says False at once
        uow.emit("license_pool.low", {"merchant_id": pool.merchant_id, "product_id": pool.product_id,
                                      "available": claimed.left, "low_stock_threshold": pool.low_stock_threshold})
    return True


def ask_merchant(uow: UnitOfWork, order: Order, line: Delivery, reason: str, fallback_from: str | None = None) -> None:
    reason = reason[:500]
    line.await_merchant(reason, fallback_from)
    uow.emit("license.requested", {"order_id": order.order_id, "merchant_id": order.merchant_id,
                                   "line_id": line.line_id, "product_id": line.product_id,
                                   "quantity": line.quantity, "reason": reason})


def emit_delivered(uow: UnitOfWork, order: Order, line: Delivery, text: str | None = None) -> None:
    uow.emit("product.delivered", {"order_id": order.order_id, "merchant_id": order.merchant_id,
                                   "line_id": line.line_id, "product_id": line.product_id,
                                   "quantity": line.quantity, "method": line.method,
                                   "licenses": list(line.licenses), "text": text})
