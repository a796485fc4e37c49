"""The directly written email (adapters.mime) is byte for byte what the stdlib wrote before.

The reference is SmtpMailer.build flattened as smtplib.send_message flattens it; only the random
multipart boundary differs, so each side's boundary is replaced by a placeholder before comparing.
"""
from __future__ import annotations

import io
from datetime import UTC, datetime
from email import policy
from email.generator import BytesGenerator
from email.parser import BytesParser
from email.utils import formatdate

import pytest

from tillkey.notifications.adapters import mime, smtp
from tillkey.notifications.adapters.rendering import JinjaRenderer
from tillkey.notifications.adapters.smtp import SmtpMailer
from tillkey.notifications.service_layer.ports import OutgoingEmail, Rendered

NOW = datetime(2030, 3, 4, 5, 6, 7, tzinfo=UTC)
CUSTOMER = dict(order_id="ord_2x8Kd9QpL3mN", order_url="http://o/orders/ord_2x8Kd9QpL3mN?token=abc",
                pay_url="http://p/pay/ord_2x8Kd9QpL3mN?token=abc")


def _rendered(template: str, language: str, **context):
    return JinjaRenderer().render(template, language, {**CUSTOMER, **context, "language": language})


def _email(rendered, to="juergen.mueller+shop@example.com", template="license_delivery"):
    return OutgoingEmail("msg_7Hq2", "<0123456789abcdef0123456789abcdef@tillkey>", to, rendered.subject,
                         rendered.text, rendered.html, template)


GERMAN = _rendered("license_delivery", "de", first_name="Jürgen", merchant_name="Müller & Söhne GmbH",
                   product_name="Pro Editor Über", quantity=2, licenses=["AAAA-BBBB", "CCCC-DDDD"], text=None)
ENGLISH = _rendered("payment_confirmation", "en", first_name="Zoë", merchant_name="Åsa's Škola",
                    amount="€12.00", method="Card")
CASES = {
    "german": _email(GERMAN),
    "english": _email(ENGLISH, template="payment_confirmation"),
    "long ascii subject": _email(Rendered("An ASCII subject that is far too long to fit on a single header "
                                          "line of the message, surely", ENGLISH.text, ENGLISH.html)),
    "encoded-word lookalike": _email(Rendered("Your order =?utf-8?q?x?= is here", ENGLISH.text,
                                                   ENGLISH.html)),
    "8bit text": _email(Rendered("Grüße", "Grüße aus Köln\n", "<p>Grüße</p>\n")),
    "base64 text": _email(Rendered("Заказ", ("Ваш заказ оплачен, спасибо за покупку. " * 4 + "\n") * 12,
                                        "<p>" + "Ваш заказ оплачен. " * 10 + "</p>\n")),
    "ascii only": _email(Rendered("Hi", "Hello\n", "<p>Hello</p>\n")),
    "empty bodies": _email(Rendered("Hi", "", "")),
    "named address": _email(ENGLISH, to='"Ada L." <ada@example.com>'),
}
SENDERS = ["Tillkey <noreply@tillkey.example>", "noreply@tillkey.example", "Tillkey Büro <noreply@tillkey.example>"]


def _stdlib_bytes(mailer: SmtpMailer, email: OutgoingEmail, monkeypatch) -> bytes:
    monkeypatch.setattr(smtp, "formatdate", lambda **kw: formatdate(NOW.timestamp(), **kw))
    out = io.BytesIO()
    BytesGenerator(out).flatten(mailer.build(email), linesep="\r\n")  # as smtplib.send_message does
    return out.getvalue()


def _without_boundary(raw: bytes) -> bytes:
    boundary = BytesParser(policy=policy.default).parsebytes(raw).get_boundary()
    assert boundary
    return raw.replace(boundary.encode(), b"BOUNDARY")


@pytest.mark.parametrize("sender", SENDERS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_bytes_are_the_stdlib_bytes(case, sender, monkeypatch):
    mailer = SmtpMailer("localhost", 25, sender)
    email = CASES[case]
    new = mailer.compose(email, NOW)
    assert _without_boundary(new) == _without_boundary(_stdlib_bytes(mailer, email, monkeypatch))


def test_a_german_email_reads_back_with_its_encoded_words_decoded():
    raw = SmtpMailer("localhost", 25, "Tillkey Büro <noreply@tillkey.example>").compose(CASES["german"], NOW)
    assert b"=?utf-8?q?" in raw.split(b"\r\n\r\n")[0] and all(b < 128 for b in raw.split(b"\r\n\r\n")[0])
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert msg["Subject"] == GERMAN.subject and "für" in GERMAN.subject
    assert msg["From"].addresses[0].display_name == "Tillkey Büro"
    assert msg["Date"].datetime == NOW and msg["Message-ID"] == "<0123456789abcdef0123456789abcdef@tillkey>"
    text, html = msg.get_payload()  # their lines end in CRLF on the wire
    assert (text.get_content_type(), text.get_content_charset(), text.get_content().replace("\r\n", "\n")) == (
        "text/plain", "utf-8", GERMAN.text)
    assert (html.get_content_type(), html.get_content_charset(), html.get_content().replace("\r\n", "\n")) == (
        "text/html", "utf-8", GERMAN.html)


def test_plain_values_are_written_as_they_are_and_others_folded_by_the_stdlib():
    assert mime.header("X-A", "plain value") == "X-A: plain value\r\n"
    assert mime.header("Subject", "für") == "Subject: =?utf-8?q?f=C3=BCr?=\r\n"
    assert mime.address_header("To", "a.b+c@example.com") == "To: a.b+c@example.com\r\n"
    assert mime.address_header("To", "A <a@example.com>") == "To: A <a@example.com>\r\n"
