"""Money is integer minor units plus an ISO 4217 code.

The code table and its exponents live in `tillkey.contracts.currencies`, shared with the other
services (notifications formats amounts in emails with the same table).
"""
from __future__ import annotations

from tillkey.contracts.currencies import CURRENCY_EXPONENTS, exponent, is_currency

__all__ = ["CURRENCY_EXPONENTS", "MAX_AMOUNT", "exponent", "format_amount", "is_currency"]

# A guard against typos that would overflow 64-bit columns downstream: 10^12 minor units.
MAX_AMOUNT = 10**12


def format_amount(amount: int, currency: str) -> str:
    """4900 EUR → '49.00 EUR'; 4900 JPY → '4900 JPY' (for pages and emails, never for math)."""
    exp = exponent(currency)
    if exp == 0:
        return f"{amount} {currency}"
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**exp)
    return f"{sign}{whole}.{frac:0{exp}d} {currency}"
