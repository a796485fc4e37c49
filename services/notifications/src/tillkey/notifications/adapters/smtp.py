"""The SMTP transport: one connection per email, STARTTLS and login when configured.

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
from email.message import EmailMessage
from email.utils import formatdate

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_fixed

from tillkey.notifications.service_layer.ports import MailRejected, MailTransient, OutgoingEmail

log = logging.getLogger(__name__)
IMMEDIATE_TRIES = 2


class SmtpMailer:
    def __init__(self, host: str, port: int, sender: str, *, starttls: bool = False, user: str = "",
                 password: str = "", timeout: float = 30.0):
        self.host, self.port, self.sender = host, port, sender
        self._starttls, self._user, self._password, self.timeout = starttls, user, password, timeout

    @property
    def longest_send(self) -> float:
        """How long one `send` can take at worst (each try: connect, then the dialogue)."""
        return IMMEDIATE_TRIES * 2 * self.timeout + 1

    def build(self, email: OutgoingEmail) -> EmailMessage:
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
        msg = self.build(email)
        retrying = Retrying(retry=retry_if_exception_type(smtplib.SMTPServerDisconnected),
                            stop=stop_after_attempt(IMMEDIATE_TRIES), wait=wait_fixed(0.2), reraise=True)
        try:
            for attempt in retrying:
                with attempt:
                    self._send_once(msg, email.to)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            _raise_for(code, f"recipient refused: {code} {_text(reply)}")
        except smtplib.SMTPDataError as exc:
            _raise_for(exc.smtp_code, f"message refused: {exc.smtp_code} {_text(exc.smtp_error)}")
        except smtplib.SMTPResponseException as exc:  # sender refused, login failed, 4xx anywhere
            raise MailTransient(f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, unreachable, timeout, TLS, dropped
            raise MailTransient(f"{type(exc).__name__}: {exc}") from exc

    def _send_once(self, msg: EmailMessage, to: str) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self._starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self._user:
                smtp.login(self._user, self._password)
            smtp.send_message(msg, from_addr=None, to_addrs=[to])


def _raise_for(code: int, detail: str) -> None:
    if 500 <= code < 600:
        raise MailRejected(detail)
    raise MailTransient(detail)


def _text(reply) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
