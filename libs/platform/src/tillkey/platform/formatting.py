"""Amounts and dates as a reader of the customer's language writes them (CLDR data, via Babel).

One implementation for every page and email, so money is never written three ways: 4900 EUR is
'€49.00' in English and '49,00 €' in German. The number of decimals is the currency's ISO 4217
exponent (the contract for amounts), not CLDR's own opinion of the currency.
"""
from __future__ import annotations

import copy
import re
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_date
from babel.numbers import NumberPattern

from tillkey.contracts.currencies import CURRENCY_EXPONENTS

DEFAULT_LOCALE = "en"
# CLDR's currency spacing (Babel does not apply it): an ISO code next to a digit gets a no-break
# space, 'KWD 1.234' not 'KWD1.234'. No-break, like the space Babel puts in '49,00 €': an amount
# never wraps over two lines.
_LETTER_DIGIT = re.compile(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")


@lru_cache(maxsize=64)
def babel_locale(tag: str | None) -> Locale:
    """'de', 'de-AT', 'de_DE' → that CLDR locale; anything unknown or malformed → English."""
    try:
        return Locale.parse((tag or DEFAULT_LOCALE).strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(DEFAULT_LOCALE)


def format_money(amount: int, currency: str, locale: str | None = DEFAULT_LOCALE) -> str:
    """Minor units → '€49.00' (en), '49,00 €' (de); 4900 JPY → '¥4,900'. A code outside ISO 4217
    still shows, with 2 decimals: an email must go out rather than fail."""
    exp = CURRENCY_EXPONENTS.get(currency, 2)
    loc, pattern = _money_pattern(locale, exp)
    text = pattern.apply(Decimal(amount).scaleb(-exp), loc, currency=currency, currency_digits=False)
    return _LETTER_DIGIT.sub("\u00a0", text)


@lru_cache(maxsize=64)
def _money_pattern(tag: str | None, exp: int) -> tuple[Locale, NumberPattern]:
    """The locale and its currency pattern with `exp` decimals, copied once per (locale, exponent):
    a copy per amount was a quarter of format_money's time. The locale's own pattern is shared
    (never edit it); nothing edits this copy after it is made, apply() only reads it."""
    loc = babel_locale(tag)
    pattern = copy.copy(loc.currency_formats["standard"])
    pattern.frac_prec = (exp, exp)
    return loc, pattern


def format_date(value: str | date | datetime | None, locale: str | None = DEFAULT_LOCALE) -> str:
    """'2026-12-11' (or an RFC 3339 timestamp) → 'December 11, 2026' (en), '11. Dezember 2026' (de).

    Timestamps are UTC, the day shown is the UTC day. Text that is no date is shown as given.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value)[:10])
        except ValueError:
            return str(value)
    return _babel_date(day, format="long", locale=babel_locale(locale))


def in_fours(text: str) -> str:
    """'DE89370400440532013000' → 'DE89 3704 0044 0532 0130 00': IBANs and card numbers as they are
    printed and read aloud (the value itself stays compact wherever it is copied or sent)."""
    compact = text.replace(" ", "")
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
