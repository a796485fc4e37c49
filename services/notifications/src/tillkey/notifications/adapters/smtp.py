"""The SMTP transport: one kept connection per sending thread, STARTTLS and login once per connection.

Why kept: connecting, EHLO, STARTTLS and AUTH cost several round trips and a TLS handshake per email;
a burst of emails (a product launch) now pays them once per thread. A kept connection that rested
longer than FRESH_SECONDS is checked with RSET before it carries the next email (a server that timed
it out answers 421 or has gone); one that fails the check, or was idle longer than IDLE_SECONDS, is
closed and replaced at once, so a stale connection costs one reconnect and never an email. One used
moments ago carries the next email unchecked: in a burst the check was one round trip of five per
email, and no server times a connection out within seconds. If that server restarted meanwhile,
MAIL FROM finds the connection dropped (or answered 421, closing it) before any of the email was
sent, and the email goes at once over a new connection, as after a failed check. Any error during
a send closes the connection: its dialogue state is unknown. SMTP objects are not thread-safe,
hence one per thread.

Retry classification, and why: anything that may work later (connection refused, timeouts, a
dropped connection, 4xx replies, a refused login or sender the operator will fix) is
MailTransient and the sender loop tries again on its schedule; only a 5xx for the recipient or
the content is MailRejected, because no retry of that message can succeed. A dropped connection
is retried once here at once: it is usually a stale or restarted server, and costs nothing.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, getaddresses

from tillkey.notifications.adapters import mime
from tillkey.notifications.service_layer.ports import MailRejected, MailTransient, OutgoingEmail
from tillkey.platform.idle import IdleCloser

log = logging.getLogger(__name__)
IMMEDIATE_TRIES = 2
IMMEDIATE_WAIT = 0.2  # seconds before the immediate retry of a dropped connection
IDLE_SECONDS = 10.0
FRESH_SECONDS = 2.0  # a connection that rested no longer than this is used without the RSET check


class _Kept:
    """A sending thread's connection, and whether that thread is using it (then no one else closes it)."""

    def __init__(self) -> None:
        self.smtp: smtplib.SMTP | None = None
        self.rested_at = 0.0
        self.in_use = False


class SmtpMailer:
    def __init__(self, host: str, port: int, sender: str, *, starttls: bool = False, user: str = "",
                 password: str = "", timeout: float = 30.0, idle_seconds: float = IDLE_SECONDS,
                 fresh_seconds: float = FRESH_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.host, self.port, self.sender = host, port, sender
        self._starttls, self._user, self._password, self.timeout = starttls, user, password, timeout
        self._idle, self._fresh, self._clock = idle_seconds, min(fresh_seconds, idle_seconds), clock
        self._local = threading.local()
        self._lock = threading.Lock()
        self._kept: set[_Kept] = set()  # the threads' slots that hold a connection
        self._closer = IdleCloser(self._sweep, "smtp-idle")
        # Once per process, not per email: the From line, and the envelope sender that
        # smtplib.send_message would take from it.
        self._from_header = mime.address_header("From", sender)
        self._from_addr = getaddresses([str(self._headers_only(sender)["From"])])[0][1]

    @property
    def longest_send(self) -> float:
        """How long one `send` can take at worst: the RSET check of a kept connection, then each
        try: connect, then the dialogue."""
        return (1 + IMMEDIATE_TRIES * 2) * self.timeout + 1

    @staticmethod
    def _headers_only(sender: str) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = sender
        return msg

    def compose(self, email: OutgoingEmail, now: datetime | None = None) -> bytes:
        """The bytes `build` and smtplib.send_message would send, written directly (adapters.mime)."""
        headers = (self._from_header + mime.address_header("To", email.to) + mime.header("Subject", email.subject)
                   + mime.date_header(now or datetime.now(UTC)) + mime.header("Message-ID", email.message_id_header)
                   + mime.header("X-Tillkey-Message-Id", email.message_id)
                   + mime.header("X-Tillkey-Template", email.template))
        return mime.alternative(headers, email.text, email.html)

    def build(self, email: OutgoingEmail) -> EmailMessage:
        """The stdlib message: for an address that needs SMTPUTF8, which send_message handles."""
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = email.to
        msg["Subject"] = email.subject
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Message-ID"] = email.message_id_header
        msg["X-Tillkey-Message-Id"] = email.message_id
        msg["X-Tillkey-Template"] = email.template
        msg.set_content(email.text)
        msg.add_alternative(email.html, subtype="html")
        return msg

    def send(self, email: OutgoingEmail) -> None:
        msg: EmailMessage | bytes
        if _ascii(self._from_addr) and _ascii(email.to):
            msg = self.compose(email)
        else:  # SMTPUTF8: send_message flattens it with utf8 headers and asks the server for it
            msg = self.build(email)
        slot = self._take_slot()
        try:
            for attempt in range(1, IMMEDIATE_TRIES + 1):
                try:
                    self._send_once(slot, msg, email.to)
                    break
                except smtplib.SMTPServerDisconnected:
                    if attempt == IMMEDIATE_TRIES:
                        raise
                    time.sleep(IMMEDIATE_WAIT)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            _raise_for(code, f"recipient refused: {code} {_text(reply)}")
        except smtplib.SMTPDataError as exc:
            _raise_for(exc.smtp_code, f"message refused: {exc.smtp_code} {_text(exc.smtp_error)}")
        except smtplib.SMTPResponseException as exc:  # sender refused, login failed, 4xx anywhere
            raise MailTransient(f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, unreachable, timeout, TLS, dropped
            raise MailTransient(f"{type(exc).__name__}: {exc}") from exc
        finally:
            self._rest_slot(slot)

    def close(self) -> None:
        """Closes the connections no thread is using (on shutdown; the others close when idle)."""
        self._closer.stop()
        with self._lock:
            idle = [slot for slot in self._kept if not slot.in_use]
            smtps = [_detach(slot) for slot in idle]
            self._kept.difference_update(idle)
        for smtp in smtps:
            _quit(smtp)

    def _send_once(self, slot: _Kept, msg: EmailMessage | bytes, to: str) -> None:
        smtp = self._connection(slot)
        try:
            if isinstance(msg, bytes):
                smtp.sendmail(self._from_addr, [to], msg)
            else:
                smtp.send_message(msg, from_addr=None, to_addrs=[to])
        except smtplib.SMTPSenderRefused as exc:
            _detach(slot)
            smtp.close()
            if exc.smtp_code == 421:  # "closing the channel" at MAIL FROM: nothing was sent, as if dropped
                raise smtplib.SMTPServerDisconnected(f"{exc.smtp_code} {_text(exc.smtp_error)}") from exc
            raise
        except BaseException:
            _detach(slot)
            smtp.close()
            raise

    def _connection(self, slot: _Kept) -> smtplib.SMTP:
        """The thread's kept connection if it was used moments ago, or is fresh and answers RSET,
        else a new one."""
        smtp = slot.smtp
        if smtp is not None:
            rested = self._clock() - slot.rested_at
            if rested <= self._fresh or (rested <= self._idle and _answers(smtp)):
                return smtp
            _detach(slot)
            smtp.close()  # no QUIT: it is gone, or too old to be worth a polite goodbye
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self._starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self._user:
                smtp.login(self._user, self._password)
        except BaseException:
            smtp.close()
            raise
        slot.smtp = smtp
        return smtp

    def _take_slot(self) -> _Kept:
        slot = getattr(self._local, "slot", None)
        if slot is None:
            slot = self._local.slot = _Kept()
        with self._lock:
            slot.in_use = True  # from here on the idle sweep leaves this slot alone
        return slot

    def _rest_slot(self, slot: _Kept) -> None:
        with self._lock:
            slot.in_use = False
            slot.rested_at = self._clock()
            if slot.smtp is None:
                self._kept.discard(slot)
                return
            self._kept.add(slot)
        self._closer.kept()

    def _sweep(self) -> float | None:
        now, expired, next_due = self._clock(), [], None
        with self._lock:
            for slot in list(self._kept):
                if slot.in_use:
                    continue  # its sender rests it again and calls kept(): a sweep will follow
                due = slot.rested_at + self._idle
                if due <= now:
                    expired.append(_detach(slot))
                    self._kept.discard(slot)
                else:
                    next_due = due if next_due is None else min(next_due, due)
        for smtp in expired:
            _quit(smtp)
        return None if next_due is None else next_due - now


def _detach(slot: _Kept) -> smtplib.SMTP | None:
    smtp, slot.smtp = slot.smtp, None
    return smtp


def _answers(smtp: smtplib.SMTP) -> bool:
    try:
        return smtp.rset()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


def _quit(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _raise_for(code: int, detail: str) -> None:
    if 500 <= code < 600:
        raise MailRejected(detail)
    raise MailTransient(detail)


def _ascii(address: str) -> bool:
    return address.isascii()


def _text(reply) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
