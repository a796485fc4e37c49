"""The mail sink's one line per email names the subject as the email package reads it, without
parsing the message (tillkey.devtools.mail_sink.subject_of)."""
from __future__ import annotations

import asyncio
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import SMTP, SMTPUTF8, default
from types import SimpleNamespace

import pytest

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
