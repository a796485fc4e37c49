"""The sender loop: polls due messages and hands them to the SMTP server, one at a time.

Why a loop over the messages table and not sending in the consumer: the consumer only records
the email (with its inbox row, in one transaction) and acks; a mail server that is down then
delays emails here, on the retry schedule, without blocking or sleeping in the consumer and
without losing anything across restarts. One at a time because every email goes to the same
server: parallel sends would not get around a slow one.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from tillkey.notifications.service_layer import sending
from tillkey.notifications.service_layer.ports import Mailer, MailRejected, MailTransient, MailUnavailable

log = logging.getLogger(__name__)


class MailSender:
    def __init__(self, uow_factory: Callable, mailer: Mailer, *, schedule: tuple[float, ...],
                 give_up_after: float, longest_send: float, batch: int = 10, poll_interval: float = 0.5):
        self._uow_factory = uow_factory
        self._mailer = mailer
        self._schedule = schedule
        self._give_up_after = timedelta(seconds=give_up_after)
        # The lease covers the whole batch sent one after the other, plus room to record each.
        self._lease = timedelta(seconds=batch * (longest_send + 5))
        self._batch = batch
        self._poll_interval = poll_interval
        self._stopping = threading.Event()
        self.ready = False

    def stop(self) -> None:
        """Safe from a signal handler: the loop ends after the email in flight."""
        self._stopping.set()

    def run(self) -> None:
        self.ready = True
        try:
            while not self._stopping.is_set():
                sent_any = self.run_once()
                if not sent_any:
                    self._stopping.wait(self._poll_interval)
        finally:
            self.ready = False

    def run_once(self) -> bool:
        """One poll: claim a batch and send it. True if there was anything to do."""
        try:
            emails = sending.claim(self._uow_factory(), self._batch, self._lease)
        except Exception:  # noqa: BLE001 — a database hiccup must not kill the worker
            log.exception("could not claim due emails")
            self._stopping.wait(1.0)
            return False
        unavailable: str | None = None
        for email in emails:
            if unavailable is not None:
                # The server is down: the rest of the batch waits its turn on the schedule
                # instead of each running into the same connection timeout.
                self._record_failure(email.message_id, unavailable, permanent=False)
                continue
            try:
                self._mailer.send(email)
            except MailUnavailable as exc:
                unavailable = str(exc)
                log.warning("mail server unavailable (%s); email %s postponed", exc, email.message_id)
                self._record_failure(email.message_id, str(exc), permanent=False)
            except MailTransient as exc:
                log.warning("email %s not sent, will retry: %s", email.message_id, exc)
                self._record_failure(email.message_id, str(exc), permanent=False)
            except MailRejected as exc:
                self._record_failure(email.message_id, str(exc), permanent=True)
            except Exception as exc:  # noqa: BLE001 — unexpected: retried like a transient failure
                log.exception("email %s: unexpected error while sending", email.message_id)
                self._record_failure(email.message_id, repr(exc), permanent=False)
            else:
                self._record(sending.record_sent, email.message_id)
        return bool(emails)

    def _record_failure(self, message_id: str, error: str, *, permanent: bool) -> None:
        self._record(sending.record_failure, message_id, error, permanent=permanent,
                     schedule=self._schedule, give_up_after=self._give_up_after)

    def _record(self, use_case, message_id: str, *args, **kwargs) -> None:
        try:
            use_case(self._uow_factory(), message_id, *args, **kwargs)
        except Exception:  # noqa: BLE001 — the lease runs out and the email is tried again
            log.exception("email %s: could not record the attempt", message_id)
