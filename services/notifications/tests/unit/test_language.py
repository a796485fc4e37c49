"""The language an email is written in (amounts and dates: libs/platform tests/test_formatting.py)."""
from __future__ import annotations

import pytest

from tillkey.notifications.domain.language import language_of, method_label


@pytest.mark.parametrize(("locale", "language"), [
    ("de", "de"), ("de-AT", "de"), ("de_DE", "de"), ("DE", "de"), ("en-GB", "en"),
    ("fr", "en"), ("", "en"), (None, "en"), ("  de-CH ", "de"),
])
def test_language_comes_from_the_locale_else_english(locale, language):
    assert language_of(locale) == language


def test_method_labels_translated_unknown_shown_as_code():
    assert method_label("bank_transfer", "de") == "Banküberweisung"
    assert method_label("card", "en") == "credit or debit card"
    assert method_label("paypal", "de") == "paypal"
