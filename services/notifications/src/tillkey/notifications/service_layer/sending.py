"""The sender loop's use cases: claim due messages, record what the SMTP server said.

The SMTP call happens between the two, outside any transaction: a mail server that takes 30 s
must not hold a database connection or row lock for 30 s.

How duplicates are bounded (SPEC §4 "at most once per cause"):
- before the SMTP call: one row per cause (unique column) and one inbox row per event mean a
  redelivered or repeated event never creates a second message;
- claiming: the row is locked (SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite) and leased
  by pushing `next_attempt_at` past the longest possible send, so two senders never take it at once;
- the one window left: the server accepted the message and we crashed (or lost the database)
  before recording it. The lease runs out and the message is sent again — with the same
  cause-derived Message-ID, so the receiving server or mail client can drop the copy. At most one
  extra copy per crash, never a lost email.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from tillkey.notifications.service_layer.ports import OutgoingEmail

log = logging.getLogger(__name__)


def claim(uow, limit: int, lease: timedelta) -> list[OutgoingEmail]:
    with uow:
        now = uow.clock.now()
        emails = []
        for message in uow.claim_due(now, limit):
            message.claim(now, lease)
            emails.append(OutgoingEmail(message.message_id, message.message_id_header, message.to,
                                        message.subject, message.text_body, message.html_body, message.template))
        uow.commit()
        return emails


def record_sent(uow, message_id: str) -> None:
    with uow:
        message = uow.message(message_id, lock=True)
        message.mark_sent(uow.clock.now())
        uow.commit()


def record_failure(uow, message_id: str, error: str, *, permanent: bool, schedule: tuple[float, ...],
                   give_up_after: timedelta) -> str:
    """Postpone (or fail) the message; returns its status afterwards."""
    with uow:
        message = uow.message(message_id, lock=True)
        message.attempt_failed(error, uow.clock.now(), permanent=permanent, schedule=schedule,
                               give_up_after=give_up_after)
        uow.commit()
        if message.status != "queued":
            log.error("email %s (%s) failed for good: %s", message_id, message.template, error)
        return message.status
