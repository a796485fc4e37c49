"""The sender loop's use cases: claim due messages, record what the SMTP server said.

The SMTP call happens between the two, outside any transaction: a mail server that takes 30 s
must not hold a database connection or row lock for 30 s.

How duplicates are bounded (docs/architecture.md §7.6, "at most once per cause"):
- before the SMTP call: one row per cause (unique column) and one inbox row per event mean a
  redelivered or repeated event never creates a second message;
- claiming: the row is locked (SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite) and leased
  by pushing `next_attempt_at` past the longest possible send, so two senders never take it at once;
- recording: the sender keeps an accepted message's outcome and records it again while the
  database is away (platform.polling), well inside the lease;
- the one window left: the server accepted the message and we crashed (or lost the database
  for longer than that) before recording it. The lease runs out and the message is sent again — with the same
  cause-derived Message-ID, so the receiving server or mail client can drop the copy. At most one
  extra copy per crash, never a lost email.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from tillkey.notifications.domain.messages import Message
from tillkey.notifications.service_layer.ports import Clock, OutgoingEmail, UnitOfWork
from tillkey.platform import metrics
from tillkey.platform.clock import seconds_until

log = logging.getLogger(__name__)


def claim(uow: UnitOfWork, limit: int, lease: timedelta, clock: Clock) -> list[OutgoingEmail]:
    with uow:
        now = clock.now()
        emails = []
        messages = uow.messages.claim_due(now, limit)
        for message in messages:
            message.claim(now, lease)
            emails.append(outgoing(message))
        uow.messages.save_all(messages)
        uow.commit()
        return emails


def seconds_until_due(uow: UnitOfWork, clock: Clock) -> float | None:
    """How long the sender may sleep: until the earliest queued message falls due (None: none is)."""
    with uow:
        return seconds_until(uow.messages.next_due_at(), clock.now())


def outgoing(message: Message) -> OutgoingEmail:
    # cast: a message is claimed or handed off only while queued, and only an erased one (failed,
    # never sent) lacks its address and bodies.
    return OutgoingEmail(message.message_id, message.message_id_header, cast(str, message.to), message.subject,
                         cast(str, message.text_body), cast(str, message.html_body), message.template)


@dataclass(frozen=True)
class Outcome:
    """What the SMTP server said of one email: accepted (no error), or why not."""

    message_id: str
    error: str | None = None
    permanent: bool = False


def record_outcomes(uow: UnitOfWork, outcomes: list[Outcome], *, schedule: tuple[float, ...],
                    give_up_after: timedelta, clock: Clock | None = None) -> None:
    """Sent, postponed or failed for good: the whole list in one transaction.

    The sender passes the clock of its Deps; without one (the statement-count test calls it so)
    the outcomes are recorded at the wall clock's time.
    """
    with uow:
        messages = uow.messages.locked([o.message_id for o in outcomes])
        now = clock.now() if clock is not None else datetime.now(UTC)
        for outcome in outcomes:
            message = messages.get(outcome.message_id)
            if message is None:
                continue
            if outcome.error is None:
                message.mark_sent(now)
                metrics.emails.labels("sent").inc()
                continue
            metrics.emails.labels("rejected" if outcome.permanent else "deferred").inc()
            message.attempt_failed(outcome.error, now, permanent=outcome.permanent, schedule=schedule,
                                   give_up_after=give_up_after)
            if message.status != "queued":
                log.error("email %s (%s) failed for good: %s", message.message_id, message.template, outcome.error)
        uow.messages.save_all(list(messages.values()))  # one executemany UPDATE for the batch
        uow.commit()
