"""What notifications knows about the people it writes to — only what it needs to address mail."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class MerchantContact:
    merchant_id: str
    name: str
    email: str


@dataclass
class OrderRecipient:
    """The customer's address for one order; erased (None) when the order is deleted."""

    order_id: str
    merchant_id: str
    email: str | None
    first_name: str | None
    locale: str

    def erase(self) -> None:
        self.email = None
        self.first_name = None
