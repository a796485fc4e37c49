"""Amounts and dates in the reader's language (CLDR), with the currency's ISO 4217 decimals."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tillkey.platform.formatting import format_date, format_money, in_fours

NBSP = "\u00a0"


@pytest.mark.parametrize(("amount", "currency", "locale", "expected"), [
    (4900, "EUR", "en", "€49.00"),
    (9800, "EUR", "de", f"98,00{NBSP}€"),
    (9800, "EUR", "de-AT", f"€{NBSP}98,00"),
    (123456789, "EUR", "en", "€1,234,567.89"),
    (123456789, "EUR", "de", f"1.234.567,89{NBSP}€"),
    (4900, "JPY", "en", "¥4,900"),              # exponent 0: no decimals
    (4900, "JPY", "de", f"4.900{NBSP}¥"),
    (5, "USD", "en", "$0.05"),
    (1234, "KWD", "en", f"KWD{NBSP}1.234"),      # exponent 3, even where CLDR would round
    (1234, "KWD", "de", f"1,234{NBSP}KWD"),
    (4900, "CHF", "en", f"CHF{NBSP}49.00"),
    (0, "GBP", "en", "£0.00"),
    (-250, "EUR", "en", "-€2.50"),
    (4900, "XXQ", "en", f"XXQ{NBSP}49.00"),     # not ISO 4217: still shown, with 2 digits
    (4900, "EUR", "xx-nonsense", "€49.00"),     # an unknown locale reads as English
    (4900, "EUR", None, "€49.00"),
])
def test_money_reads_as_the_language_writes_it(amount, currency, locale, expected):
    assert format_money(amount, currency, locale) == expected


def test_dates_in_the_readers_language():
    assert format_date("2026-12-11", "en") == "December 11, 2026"
    assert format_date("2026-12-11", "de") == "11. Dezember 2026"
    assert format_date("2026-12-11T23:30:00Z", "de") == "11. Dezember 2026"
    assert format_date(date(2026, 3, 1), "de") == "1. März 2026"
    assert format_date(datetime(2026, 3, 1, tzinfo=UTC), "en") == "March 1, 2026"


def test_no_date_is_shown_as_given():
    assert format_date("next week", "en") == "next week"
    assert format_date(None, "en") == "" and format_date("", "de") == ""


def test_ibans_and_card_numbers_in_fours():
    assert in_fours("DE89370400440532013000") == "DE89 3704 0044 0532 0130 00"
    assert in_fours("4242 4242 42424242") == "4242 4242 4242 4242"


def test_an_amount_copies_its_pattern_once_per_locale_and_exponent_and_never_edits_the_locales_own():
    from tillkey.platform.formatting import _money_pattern, babel_locale

    _money_pattern.cache_clear()
    shared = babel_locale("de").currency_formats["standard"]
    before = shared.frac_prec
    assert [format_money(n, "JPY", "de") for n in (1, 2)] == [f"1{NBSP}¥", f"2{NBSP}¥"]
    assert format_money(4900, "EUR", "de") == f"49,00{NBSP}€"   # same locale, another exponent
    assert _money_pattern.cache_info().misses == 2 and _money_pattern.cache_info().hits == 1
    assert shared.frac_prec == before and _money_pattern("de", 0)[1] is not shared
