"""An email we owe someone, from the moment its cause is known until the SMTP server took it.

Why a row first and the SMTP call later: the row commits with the inbox entry of the event that
caused it, so a mail server that is down delays the email (the sender loop retries it) and never
loses it; and the unique `cause` makes a second copy of the event, or a second event about the
same thing, find the row and send nothing.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

QUEUED, SENT, FAILED = "queued", "sent", "failed"
CUSTOMER_TEMPLATES = ("payment_instructions", "payment_confirmation", "license_delivery", "license_resend",
                      "payment_reminder", "refund_confirmation")
MERCHANT_TEMPLATES = ("license_request", "license_pool_low", "webhook_endpoint_disabled")
TEMPLATES = CUSTOMER_TEMPLATES + MERCHANT_TEMPLATES


def cause_key(template: str, *parts: str) -> str:
    """The business reason for one email: `license_delivery:ord_…:line_…`. Unique per message."""
    return ":".join((template, *parts))


def message_id_header(cause: str) -> str:
    """A Message-ID that only depends on the cause, so every copy of one email carries the same one.

    A resend after a crash (the SMTP server accepted, we died before recording it) is then
    recognisably the same message, and receiving servers or clients that dedupe on Message-ID drop it.
    """
    return f"<{hashlib.sha256(cause.encode()).hexdigest()[:32]}@tillkey>"


@dataclass
class Message:
    message_id: str
    cause: str
    template: str
    locale: str
    to: str | None
    subject: str
    text_body: str | None
    html_body: str | None
    order_id: str | None
    merchant_id: str
    created_at: datetime
    next_attempt_at: datetime | None
    status: str = QUEUED
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None

    @property
    def message_id_header(self) -> str:
        return message_id_header(self.cause)

    def claim(self, now: datetime, lease: timedelta) -> None:
        """Taken by a sender: out of other senders' way until the lease ends (if we die mid-send,
        it is sent again then — at least once, with the same Message-ID)."""
        self.attempts += 1
        self.next_attempt_at = now + lease

    def mark_sent(self, now: datetime) -> None:
        # Even if the order was erased meanwhile: the server took it, so "sent" is the truth.
        for name, value in sent_state(now).items():
            setattr(self, name, value)

    def attempt_failed(self, error: str, now: datetime, *, permanent: bool, schedule: tuple[float, ...],
                       give_up_after: timedelta) -> None:
        """Try again later on the schedule (its last step repeats); `failed` only for a message the
        server refuses for good (a 5xx for the address) or after the give-up window — a mail server
        that is down for a day still delivers everything afterwards."""
        self.last_error = error[:500]
        if self.status != QUEUED:
            return
        created_at = _utc(self.created_at)
        if permanent or now - created_at >= give_up_after:
            self.status, self.next_attempt_at = FAILED, None
            return
        step = schedule[min(max(self.attempts, 1), len(schedule)) - 1]
        self.next_attempt_at = min(now + timedelta(seconds=step), created_at + give_up_after)

    def erase(self) -> None:
        """The order was deleted: the address and the bodies (names, keys) go; an unsent one never will."""
        self.to, self.text_body, self.html_body = None, None, None
        if self.status == QUEUED:
            self.status, self.next_attempt_at, self.last_error = FAILED, None, "recipient erased (order deleted)"


def sent_state(now: datetime) -> dict[str, object]:
    """What a sent message's row says, whatever it said before: the sender writes it without
    reading the row first (service_layer/sending.py), Message.mark_sent sets the same."""
    return {"status": SENT, "sent_at": now, "next_attempt_at": None, "last_error": None}


def _utc(dt: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt
