"""The mail sink's one line per email names the subject as the email package reads it, without
parsing the message (tillkey.devtools.mail_sink.subject_of)."""
from __future__ import annotations

import asyncio
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import SMTP, SMTPUTF8, default
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tillkey.devtools.mail_sink import SaveToDir, subject_of

SUBJECTS = [
    "Payment received",
    "Zahlung erhalten: Ihre Bestellung bei Müller & Söhne",
    "Your licenses for Pro Editor " + "with a very long product name that the header must fold " * 3,
    "Ihre Lizenzen für " + "einen sehr langen Produktnamen mit Umlauten äöü, der umbrochen wird " * 3,
    "¥4,900 — 日本語の件名",
    "  spaces   inside  ",
]


def _email(subject: str, policy=SMTP) -> bytes:
    msg = EmailMessage(policy=policy)
    msg["From"] = "Tillkey <mail@tillkey.test>"
    msg["To"] = "ada@example.com"
    msg["Subject"] = subject
    msg["X-Subject-Not"] = "Subject: not this one"
    msg.set_content("Subject: nor this one, in the body\n")
    msg.add_alternative("<p>Subject: nor this</p>", subtype="html")
    return msg.as_bytes()


@pytest.mark.parametrize("policy", [SMTP, SMTPUTF8], ids=["encoded-words", "smtputf8"])
@pytest.mark.parametrize("subject", SUBJECTS)
def test_the_subject_is_what_the_email_package_reads(subject, policy):
    raw = _email(subject, policy)
    assert subject_of(raw) == str(BytesHeaderParser(policy=default).parsebytes(raw)["Subject"]).strip()
    assert " ".join(subject_of(raw).split()) == " ".join(subject.split())


def test_no_subject_and_a_subject_only_in_the_body_are_none():
    assert subject_of(b"From: a@b\r\nTo: c@d\r\n\r\nSubject: in the body\r\n") is None
    assert subject_of(b"") is None


def test_each_email_is_kept_as_received_and_named_in_one_line(tmp_path, capsys):
    raw = _email(SUBJECTS[1])
    envelope = SimpleNamespace(original_content=raw, rcpt_tos=["ada@example.com"])
    assert asyncio.run(SaveToDir(tmp_path).handle_DATA(None, None, envelope)).startswith("250 ")
    [saved] = tmp_path.glob("*.eml")
    assert saved.read_bytes() == raw
    line = capsys.readouterr().out
    assert line == f"mail-sink: to=ada@example.com subject={SUBJECTS[1]!r} -> {saved.name}\n"


PATHS = ["<mail@tillkey.test> size=1234", "<ada@example.com>", "  <ada@example.com>  SIZE=5 BODY=8BITMIME",
         "<a@b> SIZE=5 ", "<a@b>\tSIZE=5", "<a@b> ", "<a@b> (comment) SIZE=5", '<a@b> "q"', "<a.b+c@d-e.f>",
         "<a@[1.2.3.4]>", "<@x:a@b>", "<a@b>>", "<a..b@c>", "<.a@c>", "<a.@c>", "<a@b.>", "<a@.b>", "<a@-b>",
         "<a@b..c>", '<"a b"@x.y>', "<>", "ada@example.com", "FROM:<x>", "<a@b>x", "<jürgen@example.com>",
         "<a@b", "a@b>", "<a b@c>", "<a@b c>", "", " ", "<" + "l" * 70 + "@example.com>"]


@pytest.mark.parametrize("limit", [0, 64])
def test_mail_and_rcpt_addresses_are_read_as_aiosmtpd_reads_them(limit):
    from aiosmtpd.smtp import SMTP

    from tillkey.devtools.mail_sink import _Smtp

    ours, theirs = _Smtp(handler=None), SMTP(handler=None)
    ours.local_part_limit = theirs.local_part_limit = limit
    for arg in PATHS:
        assert _read(ours, arg) == _read(theirs, arg), arg


@given(st.text(alphabet="<>@.-+_ \t\"()[]:;,abcXYZ019=", max_size=30))
@settings(max_examples=500, deadline=None)
def test_any_address_argument_is_read_as_aiosmtpd_reads_it(arg):
    from aiosmtpd.smtp import SMTP

    from tillkey.devtools.mail_sink import _Smtp

    assert _read(_Smtp(handler=None), arg) == _read(SMTP(handler=None), arg)


def _read(server, arg: str):
    try:
        return server._getaddr(arg)
    except Exception as exc:  # noqa: BLE001 — aiosmtpd's parser fails on some text: ours must fail alike
        return type(exc)


def test_the_sink_takes_an_email_over_smtp_and_keeps_it(tmp_path, capsys):
    import smtplib

    from tillkey.devtools.mail_sink import _Controller
    from tillkey.testing.ports import free_port

    port = free_port("127.0.0.1")
    controller = _Controller(SaveToDir(tmp_path), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        raw = _email(SUBJECTS[0])
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
            assert smtp.sendmail("mail@tillkey.test", ["ada@example.com", "b@example.com"], raw) == {}
    finally:
        controller.stop()
    [saved] = tmp_path.glob("*.eml")
    assert saved.read_bytes().replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    assert "to=ada@example.com,b@example.com subject='Payment received'" in capsys.readouterr().out
