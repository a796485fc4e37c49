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


def test_each_template_is_looked_up_once_per_process_not_once_per_email(monkeypatch):
    """No stat() of the file per email to see whether it changed, and no TemplateNotFound raised
    and caught per email for a language that falls back to English."""
    import os.path

    renderer = JinjaRenderer()
    loads, stats = [], []
    get_source = renderer._env.loader.get_source
    monkeypatch.setattr(renderer._env.loader, "get_source",
                        lambda env, name: loads.append(name) or get_source(env, name))
    getmtime = os.path.getmtime
    monkeypatch.setattr(os.path, "getmtime", lambda path: stats.append(path) or getmtime(path))
    first = renderer.render("payment_reminder", "fr", {**CUSTOMER, "amount": "€1.00"})
    assert loads and first.subject.startswith("Reminder:")
    loads.clear(), stats.clear()
    for language in ("fr", "fr", "en"):
        again = renderer.render("payment_reminder", language, {**CUSTOMER, "amount": "€1.00"})
        assert again == first
    assert (loads, stats) == ([], [])
