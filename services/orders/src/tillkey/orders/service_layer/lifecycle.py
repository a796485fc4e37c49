"""Time-driven work on unpaid orders (docs/architecture.md §2.4): one reminder, then deletion with erasure.

The scheduler calls these every SCHEDULER_INTERVAL with durations from configuration and time
from the injected clock. Orders are claimed with FOR UPDATE SKIP LOCKED and re-checked by the
order's own guard, so two schedulers never remind or delete one order twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tillkey.orders.service_layer.ports import Deps, UnitOfWork
from tillkey.orders.service_layer.support import release_coupon


# -- commands (plain data, validated for shape at the edge) --
@dataclass(frozen=True)
class RemindUnpaidOrders:
    after: float        # seconds since the order was placed (UNPAID_REMINDER_AFTER)
    ttl: float          # UNPAID_ORDER_TTL: no reminder for an order about to be deleted
    limit: int = 100


@dataclass(frozen=True)
class DeleteExpiredOrders:
    ttl: float
    limit: int = 100


def remind_unpaid_orders(cmd: RemindUnpaidOrders, uow: UnitOfWork, deps: Deps) -> int:
    """Emit the reminders due now; the number of orders claimed (a full batch: call again)."""
    now, after, ttl = deps.clock.now(), timedelta(seconds=cmd.after), timedelta(seconds=cmd.ttl)
    claimed = uow.orders.claim_unpaid(now - after, cmd.limit, unreminded=True, created_after=now - ttl)
    for order in claimed:
        if order.remind(now, after, ttl):
            uow.emit("order.payment_reminder_due", {"order_id": order.order_id, "merchant_id": order.merchant_id,
                                                    "total": order.total, "currency": order.currency})
    uow.commit()
    return len(claimed)


def delete_expired_orders(cmd: DeleteExpiredOrders, uow: UnitOfWork, deps: Deps) -> int:
    """Delete the unpaid orders past their TTL: personal data erased, amounts and lines kept."""
    now, ttl = deps.clock.now(), timedelta(seconds=cmd.ttl)
    claimed = uow.orders.claim_unpaid(now - ttl, cmd.limit)
    for order in claimed:
        if not order.expire(now, ttl):
            continue
        release_coupon(uow, order)
        cart = uow.carts.get(order.cart_id)
        if cart is not None:
            cart.forget_email(now)      # the checkout link's prefilled email is the customer's too
        uow.emit("order.deleted", {"order_id": order.order_id, "merchant_id": order.merchant_id})
    uow.commit()
    return len(claimed)
