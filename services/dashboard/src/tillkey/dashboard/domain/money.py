"""Prices as a merchant types them ('49.00') and as the APIs take them (4900 minor units)."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from tillkey.contracts.currencies import CURRENCY_EXPONENTS

_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_MINOR_UNITS = 10**12


class InvalidPrice(ValueError):
    pass


def parse_currency(text: str) -> str:
    code = (text or "").strip().upper()
    if not _CURRENCY.match(code) or code not in CURRENCY_EXPONENTS:
        raise InvalidPrice(f"{text!r} is not an ISO 4217 currency code.")
    return code


def to_minor_units(text: str, currency: str) -> int:
    """'49.00' EUR → 4900, '7800' JPY → 7800; more decimals than the currency has is refused,
    never rounded: a price is what the merchant typed or nothing."""
    exponent = CURRENCY_EXPONENTS[currency]
    try:
        value = Decimal((text or "").strip().replace(",", ""))
    except InvalidOperation:
        raise InvalidPrice(f"{text!r} is not an amount.") from None
    if not value.is_finite() or value <= 0:
        raise InvalidPrice("A price is more than 0.")
    minor = value.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise InvalidPrice(f"{currency} has {exponent} decimals.")
    if minor > MAX_MINOR_UNITS:
        raise InvalidPrice("That price is too large.")
    return int(minor)


def from_minor_units(amount: int, currency: str) -> str:
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    return f"{Decimal(amount).scaleb(-exponent):.{exponent}f}"
