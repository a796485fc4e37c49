"""Every email, in both languages, rendered, sent to a real SMTP server and parsed back."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tillkey.contracts import load_sample
from tillkey.notifications.adapters import tables
from tillkey.notifications.domain.messages import CUSTOMER_TEMPLATES, message_id_header
from tillkey.platform.credentials import verify_order_token

from .conftest import SECRET
from .helpers import EXTRA_LINE, ORDER_ID, drain_sender, feed, known_customer, links, token_of

pytestmark = pytest.mark.integration
CUSTOMER, MERCHANT_EMAIL = "ada@example.com", "billing@acme.example"
KEY_LINE = "line_9Kd2PqX7aB"
RESEND_ID = load_sample("order.licenses_resend_requested")["id"]
RESENT_KEYS = ["KEY-AAAA-1111", "KEY-BBBB-2222"]

# (template, cause) → what the subject starts with and what the body must say, per language.
EXPECTED = {
    "en": {
        ("payment_instructions", "pay_8Wn4ZsD1qR"): ("Payment instructions for your order",
                                                     ["€88.20", "TK-3HQ8ZRW2", "DE89 3704 0044 0532 0130 00",
                                                      "COBADEFFXXX", "Tillkey Demo GmbH", "December 11, 2026"]),
        ("payment_confirmation", "pay_8Wn4ZsD1qR"): ("Payment received", ["¥4,900", "credit or debit card"]),
        ("license_delivery", f"{ORDER_ID}:{KEY_LINE}"): ("Your licenses for Pro Editor",
                                                         ["KEY-AAAA-1111", "KEY-BBBB-2222", "2 licenses"]),
        ("license_delivery", f"{ORDER_ID}:{EXTRA_LINE['line_id']}"): ("Handbook & Guide: your delivery",
                                                                      ["Download the handbook at"]),
        ("payment_reminder", ORDER_ID): ("Reminder: your order", ["€88.20", "http://payments.test/pay/"]),
        # The sample's order stays `paid`: a partial refund, and it says so.
        ("refund_confirmation", "re_2Fh6KjL9pQ"): ("Partial refund for your order", ["$44.10", "partial refund"]),
        ("license_resend", RESEND_ID): ("Your licenses, sent again", [*RESENT_KEYS, "(2 licenses)", "Setup guide"]),
        ("license_request", f"{ORDER_ID}:{KEY_LINE}"): ("Action needed: provide 2 licenses for Pro Editor",
                                                        ["license pool is empty", f"/v1/orders/{ORDER_ID}/lines/"]),
        ("license_pool_low", None): ("License pool running low: Pro Editor (3 left)", ["threshold of 5"]),
        ("webhook_endpoint_disabled", None): ("Webhook endpoint disabled: https://merchant.example/hooks",
                                              ["ep_4Gh7JkL2mN", "every delivery failed for 5 days"]),
    },
    "de": {
        ("payment_instructions", "pay_8Wn4ZsD1qR"): ("Zahlungsinformationen zu Ihrer Bestellung",
                                                     ["88,20\u00a0€", "TK-3HQ8ZRW2", "DE89 3704 0044 0532 0130 00",
                                                      "Verwendungszweck", "11. Dezember 2026"]),
        ("payment_confirmation", "pay_8Wn4ZsD1qR"): ("Zahlung für Ihre Bestellung", ["4.900\u00a0¥",
                                                                                     "Kredit- oder Debitkarte"]),
        ("license_delivery", f"{ORDER_ID}:{KEY_LINE}"): ("Ihre Lizenzen für Pro Editor",
                                                         ["KEY-AAAA-1111", "KEY-BBBB-2222", "2 Lizenzen"]),
        ("license_delivery", f"{ORDER_ID}:{EXTRA_LINE['line_id']}"): ("Handbook & Guide: Ihre Lieferung",
                                                                      ["Download the handbook at"]),
        ("payment_reminder", ORDER_ID): ("Erinnerung: Ihre Bestellung", ["88,20\u00a0€", "http://payments.test/pay/"]),
        ("refund_confirmation", "re_2Fh6KjL9pQ"): ("Teilerstattung zu Ihrer Bestellung",
                                                    ["44,10\u00a0$", "Teilerstattung"]),
        ("license_resend", RESEND_ID): ("Ihre Lizenzen, erneut gesendet",
                                        [*RESENT_KEYS, "(2 Lizenzen)", "Setup guide"]),
        # Merchants have no locale: their emails are English whatever the customer speaks.
        ("license_request", f"{ORDER_ID}:{KEY_LINE}"): ("Action needed: provide 2 licenses", ["license pool is empty"]),
        ("license_pool_low", None): ("License pool running low", ["threshold of 5"]),
        ("webhook_endpoint_disabled", None): ("Webhook endpoint disabled", ["ep_4Gh7JkL2mN"]),
    },
}


def every_email_event(service) -> None:
    feed(service, "payment.pending")
    feed(service, "payment.succeeded", amount=4900, currency="JPY")
    feed(service, "product.delivered")
    feed(service, "product.delivered", new_id=True, line_id=EXTRA_LINE["line_id"],
         product_id=EXTRA_LINE["product_id"], quantity=1, method="email", licenses=[],
         text="Download the handbook at https://acme.example/dl")
    feed(service, "order.payment_reminder_due")
    feed(service, "payment.refunded", currency="USD")
    feed(service, "order.licenses_resend_requested")
    feed(service, "license.requested")
    feed(service, "license_pool.low")
    feed(service, "webhook_endpoint.disabled")


@pytest.mark.parametrize("locale", ["en", "de-DE"])
def test_every_email_goes_out_once_in_the_customers_language(service, smtp_sink, locale):
    language = locale[:2]
    known_customer(service, locale)
    every_email_event(service)
    drain_sender(service)
    expected = EXPECTED[language]
    emails = smtp_sink.wait_for(len(expected), settle=0.3)
    assert len(emails) == len(expected)

    with service.session_factory() as session:
        causes = {m.message_id: m.cause for m in session.execute(select(tables.messages))}
        statuses = {m.status for m in session.execute(select(tables.messages))}
    assert statuses == {"sent"}

    seen = set()
    for email in emails:
        template = email.header("X-Tillkey-Template")
        cause = causes[email.header("X-Tillkey-Message-Id")]
        key = (template, cause.split(":", 1)[1] if template not in ("license_pool_low", "webhook_endpoint_disabled")
               else None)
        subject_start, snippets = expected[key]
        seen.add(key)
        assert email.subject.startswith(subject_start), (key, email.subject)
        assert email.message_id == message_id_header(cause)
        assert email.header("From") == "Tillkey <mail@tillkey.test>"
        assert email.text and email.html and email.html.lstrip().startswith("<!doctype html>")
        for snippet in snippets:
            assert snippet in email.text, (key, snippet, email.text)
            assert snippet.replace("&", "&amp;") in email.html, (key, snippet)
        is_customer = template in CUSTOMER_TEMPLATES
        assert email.rcpt_tos == [CUSTOMER if is_customer else MERCHANT_EMAIL]
        if is_customer:
            assert_order_link(email.text, email.html)
            assert f'lang="{language}"' in email.html
    assert seen == set(expected)


def assert_order_link(text: str, html: str) -> None:
    for body in (text, html):
        [order_link] = [u for u in links(body) if "/orders/" in u]
        assert order_link.startswith(f"http://orders.test/orders/{ORDER_ID}?token=")
        assert verify_order_token(SECRET, ORDER_ID, token_of(order_link))


def test_html_parts_escape_what_came_from_outside(service, smtp_sink):
    known_customer(service)
    feed(service, "product.delivered", line_id=EXTRA_LINE["line_id"], product_id=EXTRA_LINE["product_id"],
         quantity=1, method="pool", licenses=["<img src=x onerror=alert(1)>"], text=None)
    drain_sender(service)
    [email] = smtp_sink.wait_for(1)
    assert "<img src=x" not in email.html and "&lt;img src=x onerror=alert(1)&gt;" in email.html
    assert "<img src=x onerror=alert(1)>" in email.text and "Handbook &amp; Guide" in email.html


@pytest.mark.parametrize(("locale", "order_status", "subject", "says", "never"), [
    ("en", "refunded", "Refund for your order", "Your order is now refunded in full.", "partial"),
    ("en", "paid", "Partial refund for your order", "This is a partial refund", "in full"),
    ("de", "refunded", "Erstattung zu Ihrer Bestellung", "vollständig erstattet", "Teilerstattung"),
    ("de", "paid", "Teilerstattung zu Ihrer Bestellung", "Dies ist eine Teilerstattung", "vollständig")])
def test_a_refund_is_emailed_as_full_only_when_the_order_is_refunded(service, smtp_sink, locale, order_status,
                                                                      subject, says, never):
    known_customer(service, locale)
    feed(service, "payment.refunded", order_status=order_status)
    drain_sender(service)
    [email] = smtp_sink.wait_for(1)
    assert email.header("X-Tillkey-Template") == "refund_confirmation" and email.rcpt_tos == [CUSTOMER]
    assert email.subject.startswith(subject)
    amount = "€44.10" if locale == "en" else "44,10\u00a0€"
    for body in (email.text, email.html):
        assert amount in body and says in body and never.lower() not in body.lower(), body
