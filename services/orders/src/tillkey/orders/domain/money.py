"""Money is integer minor units plus an ISO 4217 code.

The code table, its exponents and the display format live in `tillkey.contracts.currencies`,
shared with the other services (notifications and payments show amounts with the same table).
"""
from __future__ import annotations

from tillkey.contracts.currencies import CURRENCY_EXPONENTS, exponent, format_amount, is_currency

__all__ = ["CURRENCY_EXPONENTS", "MAX_AMOUNT", "exponent", "format_amount", "is_currency"]

# A guard against typos that would overflow 64-bit columns downstream: 10^12 minor units.
MAX_AMOUNT = 10**12
