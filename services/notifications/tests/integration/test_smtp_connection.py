"""The SMTP transport keeps its connection between emails: against the real SMTP sink (libs/testing)."""
from __future__ import annotations

import smtplib
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from aiosmtpd.controller import Controller

from tillkey.notifications.adapters.smtp import SmtpMailer
from tillkey.notifications.bootstrap import build_mail_sender
from tillkey.notifications.service_layer.ports import MailRejected, OutgoingEmail
from tillkey.testing.messaging import running
from tillkey.testing.smtp import SmtpSink, free_port

from .test_sending import three_customer_emails

pytestmark = pytest.mark.integration


def email(n: int, to: str = "ada@example.com") -> OutgoingEmail:
    return OutgoingEmail(f"msg_{n}", f"<msg_{n}@tillkey.test>", to, f"Email {n}", "text", "<p>html</p>", "test")


@pytest.fixture
def mailer(smtp_sink):
    mailer = SmtpMailer(smtp_sink.host, smtp_sink.port, "Tillkey <mail@tillkey.test>", timeout=5.0)
    yield mailer
    mailer.close()


def subjects(sink) -> list[str]:
    return [e.subject for e in sink.received()]


def test_several_emails_go_over_one_connection(mailer, smtp_sink):
    for n in range(5):
        mailer.send(email(n))
    assert subjects(smtp_sink) == [f"Email {n}" for n in range(5)] and smtp_sink.connections() == 1


def test_each_sending_thread_keeps_its_own_connection(mailer, smtp_sink):
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda n: mailer.send(email(n)), range(12)))
    assert sorted(subjects(smtp_sink)) == sorted(f"Email {n}" for n in range(12))
    assert smtp_sink.connections() <= 2


def test_a_server_restart_between_emails_delivers_each_exactly_once(mailer, smtp_sink):
    mailer.send(email(1))
    smtp_sink.stop()
    smtp_sink.start()  # the kept connection is now dead; the next email must not be lost or doubled
    mailer.send(email(2))
    mailer.send(email(3))
    emails = smtp_sink.wait_for(3, settle=0.3)
    assert [e.message_id for e in emails] == ["<msg_1@tillkey.test>", "<msg_2@tillkey.test>", "<msg_3@tillkey.test>"]
    assert smtp_sink.connections() == 2


def test_after_a_refused_recipient_the_next_email_still_goes(mailer, smtp_sink):
    smtp_sink.refuse("gone@example.com")
    mailer.send(email(1))
    with pytest.raises(MailRejected, match="550"):
        mailer.send(email(2, to="gone@example.com"))
    mailer.send(email(3))
    assert subjects(smtp_sink) == ["Email 1", "Email 3"]


def test_an_idle_connection_is_closed_and_the_next_email_opens_another(smtp_sink):
    mailer = SmtpMailer(smtp_sink.host, smtp_sink.port, "mail@tillkey.test", timeout=5.0, idle_seconds=0.2)
    mailer.send(email(1))
    deadline = time.monotonic() + 5
    while mailer._kept and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not mailer._kept
    time.sleep(0.2)
    assert mailer._closer._thread is None  # nothing kept: the closing thread has ended
    mailer.send(email(2))
    assert subjects(smtp_sink) == ["Email 1", "Email 2"] and smtp_sink.connections() == 2
    mailer.close()


def test_a_connection_idle_too_long_is_replaced_before_use(smtp_sink):
    now = [0.0]
    mailer = SmtpMailer(smtp_sink.host, smtp_sink.port, "mail@tillkey.test", timeout=5.0, clock=lambda: now[0])
    mailer.send(email(1))
    now[0] = 9.0
    mailer.send(email(2))
    now[0] = 20.0
    mailer.send(email(3))
    assert smtp_sink.connections() == 2
    mailer.close()


@pytest.mark.filterwarnings("ignore:Requiring AUTH")
def test_login_once_per_connection():
    sink = SmtpSink(login=("tillkey", "s3cret")).start()
    try:
        mailer = SmtpMailer(sink.host, sink.port, "mail@tillkey.test", user="tillkey", password="s3cret")
        for n in range(3):
            mailer.send(email(n))
        assert len(sink.received()) == 3 and sink.connections() == 1
        mailer.close()
    finally:
        sink.stop()


def test_the_sender_loop_reuses_its_threads_connections(service, smtp_sink):
    three_customer_emails(service)
    with running(mail=build_mail_sender(service)):
        smtp_sink.wait_for(3, timeout=20, settle=0.5)
    assert len(smtp_sink.received()) == 3 and smtp_sink.connections() <= 2


def test_a_connection_used_moments_ago_is_not_checked_with_rset_one_rested_longer_is(smtp_sink, monkeypatch):
    now, checks = [0.0], []
    rset = smtplib.SMTP.rset
    monkeypatch.setattr(smtplib.SMTP, "rset", lambda smtp: checks.append(now[0]) or rset(smtp))
    mailer = SmtpMailer(smtp_sink.host, smtp_sink.port, "mail@tillkey.test", timeout=5.0, clock=lambda: now[0])
    for n in range(3):  # a burst: one round trip less per email
        mailer.send(email(n))
    assert checks == []
    now[0] = 5.0  # rested longer than FRESH_SECONDS, not IDLE_SECONDS: checked, then used
    mailer.send(email(3))
    assert checks == [5.0] and smtp_sink.connections() == 1
    assert subjects(smtp_sink) == [f"Email {n}" for n in range(4)]
    mailer.close()


class _ClosingOnce:
    """Answers the second MAIL FROM (the kept connection's first reuse) with 421, as a server going down does."""

    def __init__(self):
        self.peers, self.refused, self.received = [], 0, []

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if session.peer not in self.peers:
            self.peers.append(session.peer)
        if len(self.peers) == 1 and len(self.received) == 1 and not self.refused:
            self.refused += 1
            return "421 4.3.2 Service shutting down and closing transmission channel"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.original_content)
        return "250 OK"


def test_a_421_at_mail_from_on_a_kept_connection_sends_the_email_at_once_over_a_new_one():
    handler = _ClosingOnce()
    port = free_port("127.0.0.1")
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mailer = SmtpMailer("127.0.0.1", port, "mail@tillkey.test", timeout=5.0)
        mailer.send(email(1))
        mailer.send(email(2))  # the kept connection is refused with 421: nothing of the email was sent
        mailer.close()
    finally:
        controller.stop()
    assert handler.refused == 1 and len(handler.peers) == 2
    assert [raw.count(b"Subject: Email") for raw in handler.received] == [1, 1]
    assert b"Subject: Email 2" in handler.received[1]
