"""What notifications knows about the people it writes to — only what it needs to address mail.

Learned from events (merchant.registered, order.created, product.created/updated); personal data
(the customer's address and name) is erased when the order is deleted.
"""
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


@dataclass
class OrderLine:
    """A line of a known order: license emails name the product the customer bought."""

    line_id: str
    order_id: str
    product_id: str
    name: str
    quantity: int


@dataclass
class Product:
    """A product's current name, for merchant emails about the product itself (pool running low)."""

    product_id: str
    merchant_id: str
    name: str
