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
from datetime import datetime, timedelta
from typing import cast

from tillkey.notifications.domain.messages import Message
from tillkey.notifications.service_layer.ports import Deps, OutgoingEmail, UnitOfWork
from tillkey.platform import metrics
from tillkey.platform.clock import seconds_until

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClaimDueEmails:
    limit: int
    lease: timedelta  # how long the claimed emails are the claiming sender's alone


def claim(cmd: ClaimDueEmails, uow: UnitOfWork, deps: Deps) -> list[OutgoingEmail]:
    now = deps.clock.now()
    emails = []
    messages = uow.messages.claim_due(now, cmd.limit)
    for message in messages:
        message.claim(now, cmd.lease)
        emails.append(outgoing(message))
    uow.messages.save_all(messages)
    uow.commit()
    return emails


@dataclass(frozen=True)
class GetSecondsUntilDue:
    pass


def seconds_until_due(query: GetSecondsUntilDue, uow: UnitOfWork, deps: Deps) -> float | None:
    """How long the sender may sleep: until the earliest queued message falls due (None: none is)."""
    return seconds_until(uow.messages.next_due_at(), deps.clock.now())


@dataclass(frozen=True)
class RequeueFailedEmails:
    """Queue failed emails again, due now: the sender tries each once more (`tillkey-admin emails
    requeue`, e.g. after the mail server was fixed)."""

    message_ids: tuple[str, ...] = ()
    every: bool = False     # every failed email, not only `message_ids`


def requeue_failed(cmd: RequeueFailedEmails, uow: UnitOfWork, deps: Deps) -> int:
    count = uow.messages.requeue_failed(None if cmd.every else list(cmd.message_ids), deps.clock.now())
    uow.commit()
    return count


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


@dataclass(frozen=True)
class RecordOutcomes:
    """Sent, postponed or failed for good: the whole list in one transaction."""

    outcomes: list[Outcome]
    schedule: tuple[float, ...]   # seconds between tries
    give_up_after: timedelta


def record(cmd: RecordOutcomes, uow: UnitOfWork, deps: Deps) -> None:
    _record(uow, cmd.outcomes, cmd.schedule, cmd.give_up_after, deps.clock.now())


def _record(uow: UnitOfWork, outcomes: list[Outcome], schedule: tuple[float, ...], give_up_after: timedelta,
            now: datetime) -> None:
    if all(outcome.error is None for outcome in outcomes):
        # The usual lot: every email accepted. "Sent" needs nothing the row says (mark_sent holds
        # even for an erased one), so one UPDATE, rows locked in id order as below, and no read first.
        uow.messages.mark_sent(sorted({outcome.message_id for outcome in outcomes}), now)
        metrics.emails.labels("sent").inc(len(outcomes))
        uow.commit()
        return
    messages = uow.messages.locked([o.message_id for o in outcomes])
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
