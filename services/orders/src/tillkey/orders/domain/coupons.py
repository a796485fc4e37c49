"""Coupons (special offers): percent_off or amount_off per currency, optional product list,
expiry and a maximum number of redemptions. Codes are case-insensitive and unique per merchant."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from tillkey.orders.domain.errors import Invalid
from tillkey.orders.domain.money import MAX_AMOUNT, is_currency
from tillkey.orders.domain.pricing import Discount

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def code_key(code: str) -> str:
    """The form codes are compared and stored under: 'Spring' and 'SPRING' are one coupon."""
    return code.strip().lower()


@dataclass(eq=False)
class Coupon:
    merchant_id: str
    code_key: str
    code: str                        # as the merchant wrote it, for display
    percent_off: int | None
    amount_off: dict[str, int] | None
    product_ids: list[str] | None
    expires_at: datetime | None
    max_redemptions: int | None
    created_at: datetime
    updated_at: datetime
    redemptions: int = 0
    active: bool = True

    @classmethod
    def create(cls, merchant_id: str, code: str, now: datetime, *, percent_off: int | None = None,
               amount_off: Mapping[str, int] | None = None, product_ids: Iterable[str] | None = None,
               expires_at: datetime | None = None, max_redemptions: int | None = None) -> Coupon:
        code = (code or "").strip()
        if not CODE_PATTERN.match(code):
            raise Invalid("A code is 1 to 64 letters, digits, '-' or '_', starting with a letter or digit.",
                          field="code")
        if (percent_off is None) == (amount_off is None):
            raise Invalid("Give exactly one of percent_off or amount_off.", field="percent_off")
        if percent_off is not None and not 1 <= percent_off <= 100:
            raise Invalid("percent_off must be from 1 to 100.", field="percent_off")
        if amount_off is not None:
            if not amount_off:
                raise Invalid("amount_off needs an amount in at least one currency.", field="amount_off")
            for currency, amount in amount_off.items():
                if not is_currency(currency):
                    raise Invalid(f"{currency!r} is not an ISO 4217 currency code.", field=f"amount_off.{currency}")
                if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_AMOUNT:
                    raise Invalid("An amount off is a whole number of minor units, at least 1.",
                                  field=f"amount_off.{currency}")
        if expires_at is not None and expires_at <= now:
            raise Invalid("expires_at must be in the future.", field="expires_at")
        if max_redemptions is not None and max_redemptions < 1:
            raise Invalid("max_redemptions must be at least 1.", field="max_redemptions")
        ids = sorted(set(product_ids)) if product_ids is not None else None
        if ids is not None and not ids:
            raise Invalid("product_ids, when given, names at least one product.", field="product_ids")
        return cls(merchant_id, code_key(code), code, percent_off,
                   dict(amount_off) if amount_off is not None else None, ids, expires_at, max_redemptions,
                   now, now)

    def set_active(self, active: bool, now: datetime) -> None:
        if active != self.active:
            self.active = active
            self.updated_at = now

    @property
    def exhausted(self) -> bool:
        return self.max_redemptions is not None and self.redemptions >= self.max_redemptions

    def problem(self, now: datetime, currency: str | None) -> tuple[str, str] | None:
        """Why this coupon cannot be used now in `currency`: (code, message), or None."""
        if not self.active:
            return "coupon_inactive", f"The coupon {self.code} is no longer active."
        if self.expires_at is not None and now >= self.expires_at:
            return "coupon_expired", f"The coupon {self.code} has expired."
        if self.exhausted:
            return "coupon_exhausted", f"The coupon {self.code} has been used up."
        if currency is not None and self.amount_off is not None and currency not in self.amount_off:
            return "coupon_currency", f"The coupon {self.code} cannot be used in {currency}."
        return None

    def check_usable(self, now: datetime, currency: str | None) -> None:
        problem = self.problem(now, currency)
        if problem is not None:
            raise Invalid(problem[1], field="coupon", code=problem[0])

    def discount(self, currency: str) -> Discount:
        ids = frozenset(self.product_ids) if self.product_ids is not None else None
        if self.percent_off is not None:
            return Discount(percent_off=self.percent_off, product_ids=ids)
        return Discount(amount_off=(self.amount_off or {}).get(currency, 0), product_ids=ids)
