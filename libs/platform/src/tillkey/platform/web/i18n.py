"""Language of a page: the customer's explicit choice (a link's `locale`), else Accept-Language.

Catalogs are plain dicts, English text → translation, one per service (each owns its wording)
plus the shared one below. A missing translation shows the English text, never a key.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

SUPPORTED_LOCALES = ("en", "de")
DEFAULT_LOCALE = "en"
_LANGUAGE_RANGE = re.compile(r"^\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")

SHARED = {
    "de": {
        "Copy": "Kopieren",
        "Copied": "Kopiert",
        "Secure checkout": "Sicherer Checkout",
        "Secure payment": "Sichere Zahlung",
        "Order": "Bestellung",
        "Total": "Gesamt",
        "Something went wrong": "Etwas ist schiefgelaufen",
        "Not found": "Nicht gefunden",
        "Language": "Sprache",
        "Skip to content": "Zum Inhalt springen",
        "Checkout and payment by Tillkey on behalf of {merchant}.":
            "Checkout und Zahlung über Tillkey im Auftrag von {merchant}.",
        "the seller": "dem Verkäufer",
    },
}


def language_of(tag: str | None) -> str | None:
    """'de-AT' → 'de' if we speak it, else None."""
    if not tag:
        return None
    base = tag.strip().split("-")[0].split("_")[0].lower()
    return base if base in SUPPORTED_LOCALES else None


def negotiate_locale(explicit: str | None, accept_language: str | None) -> str:
    """The explicit choice if we speak it; else the best Accept-Language range we speak; else English."""
    chosen = language_of(explicit)
    if chosen:
        return chosen
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "")[:500].split(",")):
        match = _LANGUAGE_RANGE.match(part)
        if not match:
            continue
        try:
            quality = float(match.group(2)) if match.group(2) else 1.0
        except ValueError:
            continue
        lang = language_of(match.group(1))
        if lang and quality > 0:
            ranked.append((-quality, position, lang))
    return min(ranked)[2] if ranked else DEFAULT_LOCALE


class Translator:
    """`t("Pay {amount}", amount="49.00 EUR")` in the page's language; usable as Jinja's `_`."""

    def __init__(self, locale: str, *catalogs: Mapping[str, Mapping[str, str]]):
        self.locale = locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE
        self.messages: dict[str, str] = {}
        for catalog in (SHARED, *catalogs):
            self.messages.update(catalog.get(self.locale, {}))

    def __call__(self, text: str, **values) -> str:
        translated = self.messages.get(text, text)
        return translated.format(**values) if values else translated

    def subset(self, texts) -> dict[str, str]:
        """The translations a page's script needs (handed over as JSON, not executed)."""
        return {text: self(text) for text in texts}
