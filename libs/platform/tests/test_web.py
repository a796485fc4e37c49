"""Language choice, translation and the cross-site form check of the customer pages."""
import pytest

from tillkey.platform.web import Translator, cross_site_post, negotiate_locale, page_headers


@pytest.mark.parametrize("explicit, header, expected", [
    ("de", "en", "de"), ("DE-at", None, "de"), ("fr", "de-CH,de;q=0.9", "de"), (None, "fr, de;q=0.5, en;q=0.7", "en"),
    (None, "de;q=0", "en"), (None, "garbage;;q=x, de", "de"), (None, None, "en"), (None, "*", "en"),
])
def test_negotiate_locale(explicit, header, expected):
    assert negotiate_locale(explicit, header) == expected


def test_translator_falls_back_to_english_and_fills_placeholders():
    t = Translator("de", {"de": {"Pay {amount}": "{amount} bezahlen"}})
    assert t("Pay {amount}", amount="5.00 EUR") == "5.00 EUR bezahlen"
    assert t("Copy") == "Kopieren" and t("Unknown text") == "Unknown text"
    assert Translator("xx").locale == "en"


OWN = ("https://shop.example", "http://localhost:8001/")


@pytest.mark.parametrize("headers, forged", [
    ({"Sec-Fetch-Site": "same-origin", "Origin": "null"}, False),
    ({"Sec-Fetch-Site": "cross-site", "Origin": "https://shop.example"}, True),
    ({"Sec-Fetch-Site": "same-site"}, True),
    ({"Origin": "https://shop.example"}, False), ({"Origin": "http://localhost:8001"}, False),
    ({"Origin": "https://evil.example"}, True), ({"Origin": "null"}, True),
    ({"Referer": "https://shop.example/checkout/x"}, False), ({"Referer": "https://evil.example/"}, True),
    ({}, False),
])
def test_cross_site_post(headers, forged):
    assert cross_site_post(headers, OWN) is forged


def test_page_headers_allow_only_our_own_assets_and_named_form_targets():
    csp = page_headers(form_targets=("https://pay.example/pay/x?token=y",))["Content-Security-Policy"]
    assert "form-action 'self' https://pay.example;" in csp and "style-src 'self'" in csp
    assert "form-action 'none'" in page_headers()["Content-Security-Policy"]
