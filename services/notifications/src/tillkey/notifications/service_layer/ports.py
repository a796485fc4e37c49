"""What the use cases need from the outside: a template renderer and a mail transport."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class Renderer(Protocol):
    def render(self, template: str, language: str, context: dict[str, Any]) -> Rendered: ...


@dataclass(frozen=True)
class OutgoingEmail:
    """One email as the transport sends it: snapshotted at claim time, no database access while sending."""

    message_id: str          # msg_…, ours
    message_id_header: str   # the cause-derived RFC 5322 Message-ID
    to: str
    subject: str
    text: str
    html: str
    template: str


class MailTransient(Exception):
    """Not sent, try again later: server down, 4xx, a dropped connection, a login the operator will fix."""


class MailRejected(Exception):
    """The server refuses this message for good (5xx for the recipient or the content): retrying cannot help."""


class Mailer(Protocol):
    def send(self, email: OutgoingEmail) -> None:
        """Returns once the server accepted the message; raises MailTransient or MailRejected."""
