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

from tillkey.notifications.service_layer import sending
from tillkey.notifications.service_layer.ports import Mailer, MailRejected, MailTransient, OutgoingEmail
from tillkey.platform.polling import PollingWorker

log = logging.getLogger(__name__)


class MailSender(PollingWorker):
    def __init__(self, uow_factory: Callable, mailer: Mailer, *, schedule: tuple[float, ...],
                 give_up_after: float, longest_send: float, threads: int = 2, poll_interval: float = 0.5):
        self._uow_factory = uow_factory
        self._mailer = mailer
        self._schedule = schedule
        self._give_up_after = timedelta(seconds=give_up_after)
        # The lease outlasts the longest send plus room to record it: no second sender takes the
        # message while it is in flight, and a crashed sender's message comes back after it.
        self._lease = timedelta(seconds=longest_send + 30)
        super().__init__("mail-send", self.claim, self.send, threads=threads, poll_interval=poll_interval)

    def claim(self, free: int) -> list[OutgoingEmail]:
        return sending.claim(self._uow_factory(), free, self._lease)

    def send(self, email: OutgoingEmail) -> None:
        try:
            self._mailer.send(email)
        except MailTransient as exc:
            log.warning("email %s not sent, will retry: %s", email.message_id, exc)
            self._record_failure(email.message_id, str(exc), permanent=False)
        except MailRejected as exc:
            self._record_failure(email.message_id, str(exc), permanent=True)
        except Exception as exc:  # noqa: BLE001 — unexpected: retried like a transient failure
            log.exception("email %s: unexpected error while sending", email.message_id)
            self._record_failure(email.message_id, repr(exc), permanent=False)
        else:
            # If this fails (database down), the lease runs out and the email goes again, with the
            # same Message-ID (see service_layer.sending).
            sending.record_sent(self._uow_factory(), email.message_id)

    def run_once(self, limit: int = 10) -> bool:
        """One poll on the caller's thread (tests, tools): claim and send. True if there was work."""
        emails = self.claim(limit)
        for email in emails:
            self.send(email)
        return bool(emails)

    def _record_failure(self, message_id: str, error: str, *, permanent: bool) -> None:
        sending.record_failure(self._uow_factory(), message_id, error, permanent=permanent,
                               schedule=self._schedule, give_up_after=self._give_up_after)
