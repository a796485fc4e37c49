"""Who may see an order, and who may act on it (docs/architecture.md §5: unseen → 404, seen but not allowed → 403)."""
from __future__ import annotations

from dataclasses import dataclass

from tillkey.orders.domain.errors import Forbidden, NotFound
from tillkey.orders.domain.orders import Order
from tillkey.orders.service_layer.ports import UnitOfWork
from tillkey.platform.visibility import sees_order


# -- who asks (plain data, built at the edge) --
@dataclass(frozen=True)
class Viewer:
    """Who is asking, in the service's terms: admin, merchant (with its id) or customer (one order)."""

    kind: str
    merchant_id: str | None = None
    order_id: str | None = None


def visible_order(uow: UnitOfWork, order_id: str, viewer: Viewer, *, lock: bool = False) -> Order:
    """The order if `viewer` may see it: admin always, a merchant its own, the customer its one order
    unless deleted (its data is gone and the token no longer opens it). Anything else: not found."""
    order = uow.orders.get(order_id, lock=lock)
    if order is None or not sees_order(viewer, order.order_id, order.merchant_id,
                                       hidden_from_customer=not order.visible_to_customer):
        raise NotFound("No such order.")
    return order


def ensure_may(viewer: Viewer, action: str, *kinds: str) -> None:
    if viewer.kind not in kinds:
        who = " or ".join({"admin": "support", "merchant": "the merchant", "customer": "the customer"}[k]
                          for k in kinds)
        raise Forbidden(f"Only {who} can {action} an order.")
