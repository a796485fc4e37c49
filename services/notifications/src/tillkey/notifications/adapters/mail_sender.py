"""The sender loop: polls due messages and hands them to the SMTP server (platform.polling).

Why a loop over the messages table and not sending in the consumer: the consumer only records
the email (with its inbox row, in one transaction) and acks; a mail server that is down then
delays emails here, on the retry schedule, without blocking or sleeping in the consumer and
without losing anything across restarts. A few threads, not many: every email goes to the same
server, so more parallel sends would not get around a slow one.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tillkey.notifications.service_layer import sending
from tillkey.notifications.service_layer.ports import Mailer, MailRejected, MailTransient, OutgoingEmail
from tillkey.platform.polling import PollingWorker

log = logging.getLogger(__name__)
_UNTIL_DUE = sending.GetSecondsUntilDue()


class MailSender(PollingWorker):
    def __init__(self, handle: Callable[[Any], Any], mailer: Mailer, *, schedule: tuple[float, ...],
                 give_up_after: float, longest_send: float, threads: int = 2, poll_interval: float = 0.5,
                 sleep_until_due: bool = False):
        self._handle = handle  # the service's: runs a command of service_layer/sending.py in its own unit of work
        self._mailer = mailer
        self._schedule = schedule
        self._give_up_after = timedelta(seconds=give_up_after)
        # The lease outlasts the longest send plus room to record it: no second sender takes the
        # message while it is in flight, and a crashed sender's message comes back after it.
        self._lease = timedelta(seconds=longest_send + 30)
        self._longest_send = longest_send
        super().__init__("mail-send", self.claim, self.send, threads=threads, poll_interval=poll_interval,
                         record=self.record, record_for=min(20.0, longest_send),
                         # Only when the consumer hands its emails over (bootstrap.build_workers): otherwise
                         # a queued email would wait for the next due time, up to half a minute.
                         next_due=self._seconds_until_due if sleep_until_due else None)

    def _seconds_until_due(self) -> float | None:
        due: float | None = self._handle(_UNTIL_DUE)
        return due

    @property
    def lease(self) -> timedelta:
        return self._lease

    def take_leased(self, emails: list[OutgoingEmail]) -> None:
        """Emails the consumer queued already leased to us: sent now, unless one waited so long
        that its send could outlast the lease (then the lease ends and a poll takes it)."""
        self.take(emails, start_within=self._lease.total_seconds() - self._longest_send - 10)

    def claim(self, free: int) -> list[OutgoingEmail]:
        emails: list[OutgoingEmail] = self._handle(sending.ClaimDueEmails(free, self._lease))
        return emails

    def send(self, email: OutgoingEmail) -> sending.Outcome:
        """The SMTP call only; the loop records outcomes in batches (and again if the database is away)."""
        try:
            self._mailer.send(email)
        except MailTransient as exc:
            log.warning("email %s not sent, will retry: %s", email.message_id, exc)
            return sending.Outcome(email.message_id, str(exc), permanent=False)
        except MailRejected as exc:
            return sending.Outcome(email.message_id, str(exc), permanent=True)
        except Exception as exc:  # noqa: BLE001 — unexpected: retried like a transient failure
            log.exception("email %s: unexpected error while sending", email.message_id)
            return sending.Outcome(email.message_id, repr(exc), permanent=False)
        return sending.Outcome(email.message_id)

    def record(self, outcomes: list[sending.Outcome]) -> None:
        self._handle(sending.RecordOutcomes(outcomes, self._schedule, self._give_up_after))

    def run_once(self, limit: int = 10) -> bool:
        """One poll on the caller's thread (tests, tools): claim, send, record. True if there was work."""
        emails = self.claim(limit)
        if emails:
            self.record([self.send(email) for email in emails])
        return bool(emails)
