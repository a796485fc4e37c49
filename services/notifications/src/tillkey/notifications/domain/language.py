"""Which language an email is written in, and how payment methods are named in it.

Amounts and dates are formatted by `tillkey.platform.formatting` (CLDR), the same as on the pages.
"""
from __future__ import annotations

SUPPORTED = ("en", "de")
DEFAULT = "en"

_METHODS = {"en": {"card": "credit or debit card", "bank_transfer": "bank transfer", "free": "no payment needed"},
            "de": {"card": "Kredit- oder Debitkarte", "bank_transfer": "Banküberweisung",
                   "free": "keine Zahlung nötig"}}


def language_of(locale: str | None) -> str:
    """'de', 'de-AT', 'de_DE' → 'de'; anything we have no templates for → English."""
    primary = (locale or "").strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in SUPPORTED else DEFAULT


def method_label(method: str, language: str = DEFAULT) -> str:
    """A payment method as a reader names it; a method added later shows as its code until translated."""
    return _METHODS.get(language, _METHODS[DEFAULT]).get(method) or _METHODS[DEFAULT].get(method) or method
