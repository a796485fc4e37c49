"""The packaged Jinja2 templates: escaping, strictness, language fallback."""
from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from tillkey.notifications.adapters.rendering import JinjaRenderer
from tillkey.notifications.domain.messages import TEMPLATES

CUSTOMER = dict(first_name="<b>Ada</b>", order_id="ord_1", order_url="http://o/orders/ord_1?token=t&x=1",
                pay_url="http://p/pay/ord_1?token=t", merchant_name="Acme & Sons", language="en")


def test_html_is_escaped_text_is_not():
    out = JinjaRenderer().render("license_delivery", "en", {
        **CUSTOMER, "product_name": "Pro <script>", "quantity": 1, "licenses": ["K<1>"], "text": None})
    assert "<script>" not in out.html and "Pro &lt;script&gt;" in out.html and "K&lt;1&gt;" in out.html
    assert "&lt;b&gt;Ada&lt;/b&gt;" in out.html and "Acme &amp; Sons" in out.html
    assert 'href="http://o/orders/ord_1?token=t&amp;x=1"' in out.html
    assert "Hello <b>Ada</b>," in out.text and "Pro <script>" in out.subject and "K<1>" in out.text


def test_a_value_the_template_needs_but_was_not_given_fails_loudly():
    with pytest.raises(UndefinedError):
        JinjaRenderer().render("payment_confirmation", "en", {**CUSTOMER, "method": "card"})  # no amount


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_exists_in_english_and_german(template):
    from importlib.resources import files
    root = files("tillkey.notifications") / "templates"
    for language in ("en", "de"):
        for kind in ("txt", "html"):
            assert (root / language / f"{template}.{kind}").is_file(), f"{language}/{template}.{kind}"


def test_a_language_without_templates_falls_back_to_english():
    out = JinjaRenderer().render("payment_reminder", "fr", {**CUSTOMER, "amount": "€1.00"})
    assert out.subject.startswith("Reminder:")
