"""Cart math (docs/architecture.md §4), in integer minor units only.

- `percent_off` is applied per line and rounded half-up in minor units, so each line's discount
  is what the customer would compute for that line alone.
- `amount_off` applies once per cart, capped at the eligible subtotal, and is split across the
  eligible lines in proportion to their subtotals by the largest-remainder method, so the line
  discounts add up to exactly the cart discount (no cent appears or disappears).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LineInput:
    key: str            # whatever identifies the line to the caller (its line id)
    product_id: str
    unit_price: int
    quantity: int


@dataclass(frozen=True)
class Discount:
    """A resolved coupon for one currency: exactly one of percent_off / amount_off."""

    percent_off: int | None = None
    amount_off: int | None = None
    product_ids: frozenset[str] | None = None   # None: every product is eligible

    def eligible(self, product_id: str) -> bool:
        return self.product_ids is None or product_id in self.product_ids


@dataclass(frozen=True)
class PricedLine:
    key: str
    product_id: str
    unit_price: int
    quantity: int
    subtotal: int
    discount: int

    @property
    def total(self) -> int:
        return self.subtotal - self.discount


@dataclass(frozen=True)
class PricedCart:
    lines: tuple[PricedLine, ...]

    @property
    def subtotal(self) -> int:
        return sum(line.subtotal for line in self.lines)

    @property
    def discount(self) -> int:
        return sum(line.discount for line in self.lines)

    @property
    def total(self) -> int:
        return self.subtotal - self.discount


def percent_of(amount: int, percent: int) -> int:
    """`percent`% of `amount`, rounded half-up (amounts are never negative)."""
    return (amount * percent + 50) // 100


def split_proportionally(amount: int, weights: Sequence[int]) -> list[int]:
    """Split `amount` over `weights` so the parts add up to `amount` exactly.

    Each part is floor(amount * w / W); the units left over go one each to the parts with the
    largest remainders (earlier parts win ties, so the result is deterministic).
    """
    total_weight = sum(weights)
    if amount == 0 or total_weight == 0:
        return [0] * len(weights)
    parts, remainders = [], []
    for i, weight in enumerate(weights):
        part, rem = divmod(amount * weight, total_weight)
        parts.append(part)
        remainders.append((-rem, i))
    for _, i in sorted(remainders)[: amount - sum(parts)]:
        parts[i] += 1
    return parts


def price_cart(lines: Sequence[LineInput], discount: Discount | None = None) -> PricedCart:
    subtotals = [line.unit_price * line.quantity for line in lines]
    discounts = [0] * len(lines)
    if discount is not None and discount.percent_off is not None:
        discounts = [percent_of(sub, discount.percent_off) if discount.eligible(line.product_id) else 0
                     for line, sub in zip(lines, subtotals, strict=True)]
    elif discount is not None and discount.amount_off is not None:
        eligible = [i for i, line in enumerate(lines) if discount.eligible(line.product_id)]
        weights = [subtotals[i] for i in eligible]
        capped = min(discount.amount_off, sum(weights))
        for i, part in zip(eligible, split_proportionally(capped, weights), strict=True):
            discounts[i] = part
    return PricedCart(tuple(
        PricedLine(line.key, line.product_id, line.unit_price, line.quantity, sub, disc)
        for line, sub, disc in zip(lines, subtotals, discounts, strict=True)))
