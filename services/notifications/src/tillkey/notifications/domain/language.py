"""Which language an email is written in, and how amounts and dates read in it."""
from __future__ import annotations

from datetime import date

from tillkey.contracts.currencies import CURRENCY_EXPONENTS

SUPPORTED = ("en", "de")
DEFAULT = "en"

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
_SEPARATORS = {"en": (",", "."), "de": (".", ",")}  # (thousands, decimal)
_METHODS = {"en": {"card": "credit or debit card", "bank_transfer": "bank transfer", "free": "no payment needed"},
            "de": {"card": "Kredit- oder Debitkarte", "bank_transfer": "Banküberweisung",
                   "free": "keine Zahlung nötig"}}
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")


def language_of(locale: str | None) -> str:
    """'de', 'de-AT', 'de_DE' → 'de'; anything we have no templates for → English."""
    primary = (locale or "").strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in SUPPORTED else DEFAULT


def format_money(amount: int, currency: str, language: str = DEFAULT) -> str:
    """Minor units → what a reader expects: 4900 EUR → '€49.00' (en), '49,00 €' (de); 4900 JPY → '¥4,900'.

    The exponent comes from the shared ISO 4217 table; a code outside it is shown with 2 digits
    (an email must still go out) rather than failing.
    """
    thousands, decimal = _SEPARATORS.get(language, _SEPARATORS[DEFAULT])
    exp = CURRENCY_EXPONENTS.get(currency, 2)
    whole, frac = divmod(abs(amount), 10**exp)
    number = f"{whole:,}".replace(",", thousands) + (f"{decimal}{frac:0{exp}d}" if exp else "")
    sign = "-" if amount < 0 else ""
    symbol = _SYMBOLS.get(currency)
    if language == "de":
        return f"{sign}{number} {symbol or currency}"
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{currency} {number}"


def format_date(iso_date: str | None, language: str = DEFAULT) -> str:
    """'2026-12-11' → '11 December 2026' (en), '11.12.2026' (de); unparsable text is shown as given."""
    if not iso_date:
        return ""
    try:
        day = date.fromisoformat(str(iso_date)[:10])
    except ValueError:
        return str(iso_date)
    if language == "de":
        return f"{day.day:02d}.{day.month:02d}.{day.year}"
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def method_label(method: str, language: str = DEFAULT) -> str:
    """A payment method as a reader names it; a method added later shows as its code until translated."""
    return _METHODS.get(language, _METHODS[DEFAULT]).get(method) or _METHODS[DEFAULT].get(method) or method
