"""A real SMTP server on loopback for tests: every email it accepts, parsed back.

    sink = SmtpSink().start()          # or the `smtp_sink` fixture
    ... point SMTP_HOST/SMTP_PORT at sink.host/sink.port ...
    [email] = sink.wait_for(1)
    email.subject, email.text, email.html, email.message_id

`stop()` then `start()` takes the server down and brings it back on the same port (a mail
server outage); `reject_next(n)` answers the next n messages with a 4xx, `refuse(address)`
answers 550 for one recipient. Use the fixture from a conftest with
`from tillkey.testing import smtp` and `smtp_sink = smtp.smtp_sink`.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tillkey.testing import ports

# aiosmtpd's Controller cannot start on port 0 (its readiness probe needs the number first).
free_port = ports.free_port


@dataclass
class ReceivedEmail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage = field(repr=False)
    peer: tuple | None = None  # the client's (address, port): one per SMTP connection

    @property
    def subject(self) -> str:
        return self.header("Subject") or ""

    @property
    def to(self) -> str:
        return self.header("To") or ""

    @property
    def message_id(self) -> str:
        return self.header("Message-ID") or ""

    def header(self, name: str) -> str | None:
        """As a mail client shows it. Python folds a long header right after the colon and its
        parser then keeps the folding space in front of the value; clients strip it."""
        value = self.message[name]
        return None if value is None else str(value).strip()

    def _part(self, subtype: str) -> str | None:
        part = self.message.get_body(preferencelist=(subtype,))
        if part is None or part.get_content_subtype() != subtype:
            return None
        return part.get_content().replace("\r\n", "\n")  # as written, not as sent over the wire

    @property
    def text(self) -> str | None:
        return self._part("plain")

    @property
    def html(self) -> str | None:
        return self._part("html")


class _Handler:
    def __init__(self, sink: "SmtpSink"):
        self._sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self._sink._refused.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        return self._sink._receive(envelope, tuple(session.peer))


class SmtpSink:
    def __init__(self, host: str = "127.0.0.1", port: int | None = None, *,
                 login: tuple[str, str] | None = None):
        """`login=(user, password)`: the server requires AUTH (PLAIN/LOGIN, allowed without TLS here)."""
        self.host = host
        self.port = port
        self._login = login
        self.emails: list[ReceivedEmail] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None
        self._reject = 0
        self._reject_reply = ""
        self._refused: dict[str, str] = {}
        self.rejected = 0  # messages answered with reject_next's reply

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "SmtpSink":
        """Listen (again). The first start picks a free port; later starts reuse it."""
        last: Exception | None = None
        for _ in range(20):
            port = self.port or free_port(self.host)
            controller = Controller(_Handler(self), hostname=self.host, port=port, ready_timeout=10,
                                    **self._auth_options())
            try:
                controller.start()
            except Exception as exc:  # noqa: BLE001 — the port was taken meanwhile, or is not free yet
                last = exc
                time.sleep(0.1)
                continue
            self.port, self._controller = port, controller
            return self
        raise RuntimeError(f"could not start the SMTP sink on {self.host}:{self.port or 'a free port'}: {last!r}")

    def _auth_options(self) -> dict:
        if self._login is None:
            return {}

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and (
                auth_data.login.decode(), auth_data.password.decode()) == self._login
            return AuthResult(success=ok, handled=False)  # handled=True would leave the client without a reply

        # Without TLS on purpose: loopback only, and it lets tests check the login itself (aiosmtpd
        # warns about it on each connection: `@pytest.mark.filterwarnings("ignore:Requiring AUTH")`).
        return {"authenticator": authenticate, "auth_required": True, "auth_require_tls": False}

    def stop(self) -> None:
        """Stop listening: senders now get 'connection refused', as with a mail server that is down."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    # -- behaviour ---------------------------------------------------------------------------
    def reject_next(self, count: int, reply: str = "451 4.3.0 Temporary failure, try again later") -> None:
        with self._lock:
            self._reject, self._reject_reply = count, reply

    def refuse(self, address: str, reply: str = "550 5.1.1 No such user here") -> None:
        self._refused[address.lower()] = reply

    def _receive(self, envelope, peer: tuple | None = None) -> str:
        with self._lock:
            if self._reject > 0:
                self._reject -= 1
                self.rejected += 1
                return self._reject_reply
            raw = envelope.original_content or envelope.content
            self.emails.append(ReceivedEmail(envelope.mail_from, list(envelope.rcpt_tos), raw,
                                             message_from_bytes(raw, policy=default), peer))
        return "250 Message accepted for delivery"

    # -- reading -----------------------------------------------------------------------------
    def received(self) -> list[ReceivedEmail]:
        with self._lock:
            return list(self.emails)

    def connections(self) -> int:
        """Over how many distinct client connections the accepted emails came."""
        return len({e.peer for e in self.received()})

    def to(self, address: str) -> list[ReceivedEmail]:
        return [e for e in self.received() if address.lower() in (r.lower() for r in e.rcpt_tos)]

    def wait_for(self, count: int, *, timeout: float = 20.0, settle: float = 0.0) -> list[ReceivedEmail]:
        """At least `count` emails within `timeout` (else AssertionError); with `settle`, also wait that
        long afterwards so that an unexpected extra email shows up in the result."""
        deadline = time.monotonic() + timeout
        while len(self.received()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s: {len(self.received())} of {count} emails "
                                     f"arrived: {[e.subject for e in self.received()]}")
            time.sleep(0.05)
        if settle:
            time.sleep(settle)
        return self.received()

    def clear(self) -> None:
        with self._lock:
            self.emails.clear()


@pytest.fixture
def smtp_sink():
    """A started SmtpSink on a free loopback port, stopped after the test."""
    sink = SmtpSink().start()
    yield sink
    sink.stop()
