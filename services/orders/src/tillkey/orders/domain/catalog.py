"""Merchants and their products: what can be sold, and at which price in which currency."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from tillkey.orders.domain.errors import Invalid
from tillkey.orders.domain.money import MAX_AMOUNT, is_currency


@dataclass(eq=False)
class Merchant:
    merchant_id: str
    name: str
    email: str
    created_at: datetime
    # Linked from the checkout's two consents, so a customer can read what they agree to.
    terms_url: str | None = None
    privacy_url: str | None = None

    def change(self, changes: Mapping[str, str | None]) -> bool:
        """Apply the given settings (None removes a link); True when the name changed, which the
        other services must learn (they show it)."""
        renamed = "name" in changes and changes["name"] != self.name
        for key in ("name", "terms_url", "privacy_url"):
            if key in changes:
                setattr(self, key, changes[key])
        return renamed


def check_prices(prices: Mapping[str, int], default_currency: str) -> dict[str, int]:
    """An explicit price per currency, in minor units; the default must be one of them."""
    if not prices:
        raise Invalid("A product needs a price in at least one currency.", field="prices")
    for currency, amount in prices.items():
        if not is_currency(currency):
            raise Invalid(f"{currency!r} is not an ISO 4217 currency code.", field=f"prices.{currency}")
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= MAX_AMOUNT:
            raise Invalid(f"The price must be a whole number of minor units from 0 to {MAX_AMOUNT}.",
                          field=f"prices.{currency}")
    if default_currency not in prices:
        raise Invalid(f"default_currency {default_currency!r} must be one of the product's prices "
                      f"({', '.join(sorted(prices))}).", field="default_currency")
    return dict(prices)


@dataclass(eq=False)
class Product:
    product_id: str
    merchant_id: str
    name: str
    prices: dict[str, int]
    default_currency: str
    created_at: datetime
    updated_at: datetime
    active: bool = True

    @classmethod
    def create(cls, product_id: str, merchant_id: str, name: str, prices: Mapping[str, int],
               default_currency: str, now: datetime, active: bool = True) -> Product:
        return cls(product_id, merchant_id, name, check_prices(prices, default_currency),
                   default_currency, now, now, active)

    def update(self, now: datetime, *, name: str | None = None, prices: Mapping[str, int] | None = None,
               default_currency: str | None = None, active: bool | None = None) -> bool:
        """Apply the given changes together (all or none); True when something changed."""
        new_prices = dict(self.prices) if prices is None else dict(prices)
        new_default = default_currency or self.default_currency
        new_prices = check_prices(new_prices, new_default)
        changed = ((name is not None and name != self.name) or new_prices != self.prices
                   or new_default != self.default_currency or (active is not None and active != self.active))
        if not changed:
            return False
        if name is not None:
            self.name = name
        # A new dict, never an in-place edit: the JSON column notices reassignment only.
        self.prices = new_prices
        self.default_currency = new_default
        if active is not None:
            self.active = active
        self.updated_at = now
        return True

    def price_in(self, currency: str) -> int | None:
        return self.prices.get(currency)
