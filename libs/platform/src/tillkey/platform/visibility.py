"""Who may see an order (docs/architecture.md §5): one rule for every service's API and service layer.

Pure Python, so a service layer may use it (the import rules of docs/architecture.md §8). Whoever
may not see an order is told it does not exist: another merchant's order and a customer's deleted
order look exactly like a missing one.
"""
from __future__ import annotations

from typing import Protocol


class Viewer(Protocol):
    """Who asks: `tillkey.platform.auth.Principal` at the HTTP edge, a service's own viewer inside."""

    @property
    def kind(self) -> str: ...          # "admin" | "merchant" | "customer"
    @property
    def merchant_id(self) -> str | None: ...
    @property
    def order_id(self) -> str | None: ...   # a customer's: the one order its token opens


def sees_order(viewer: Viewer, order_id: str, owner_merchant_id: str, *, hidden_from_customer: bool = False) -> bool:
    """Admin always; a merchant its own orders; the customer its one order unless that order is
    hidden from customers (deleted: its data is gone and the token no longer opens it)."""
    if viewer.kind == "admin":
        return True
    if viewer.kind == "merchant":
        return viewer.merchant_id == owner_merchant_id
    return viewer.kind == "customer" and viewer.order_id == order_id and not hidden_from_customer
