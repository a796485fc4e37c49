"""Amounts, dates and the language an email is written in."""
from __future__ import annotations

import pytest

from tillkey.notifications.domain.language import format_date, format_money, language_of, method_label


@pytest.mark.parametrize(("amount", "currency", "language", "expected"), [
    (4900, "EUR", "en", "€49.00"),
    (4900, "EUR", "de", "49,00 €"),
    (123456789, "EUR", "en", "€1,234,567.89"),
    (123456789, "EUR", "de", "1.234.567,89 €"),
    (4900, "JPY", "en", "¥4,900"),   # exponent 0: no decimals
    (4900, "JPY", "de", "4.900 ¥"),
    (5, "USD", "en", "$0.05"),
    (1234, "KWD", "en", "KWD 1.234"),  # exponent 3
    (1234, "KWD", "de", "1,234 KWD"),
    (4900, "CHF", "en", "CHF 49.00"),
    (0, "GBP", "en", "£0.00"),
    (-250, "EUR", "en", "-€2.50"),
    (4900, "XXQ", "en", "XXQ 49.00"),  # not ISO 4217: still shown, with 2 digits
])
def test_money_reads_as_the_language_writes_it(amount, currency, language, expected):
    assert format_money(amount, currency, language) == expected


@pytest.mark.parametrize(("locale", "language"), [
    ("de", "de"), ("de-AT", "de"), ("de_DE", "de"), ("DE", "de"), ("en-GB", "en"),
    ("fr", "en"), ("", "en"), (None, "en"), ("  de-CH ", "de"),
])
def test_language_comes_from_the_locale_else_english(locale, language):
    assert language_of(locale) == language


def test_dates_per_language_and_garbage_shown_as_given():
    assert format_date("2026-12-11", "en") == "11 December 2026"
    assert format_date("2026-12-11", "de") == "11.12.2026"
    assert format_date("2026-12-11T10:00:00Z", "de") == "11.12.2026"
    assert format_date("next week", "en") == "next week"
    assert format_date(None, "en") == ""


def test_method_labels_translated_unknown_shown_as_code():
    assert method_label("bank_transfer", "de") == "Banküberweisung"
    assert method_label("card", "en") == "credit or debit card"
    assert method_label("paypal", "de") == "paypal"
