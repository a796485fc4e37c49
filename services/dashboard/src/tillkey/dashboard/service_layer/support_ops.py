"""The support console's view of operations (docs/dashboard.md, "Dead letters" and "Failed emails"):
each service's dead letters, shown and replayed (never purged: that stays `tillkey-admin`'s, typed by
a person at a shell), and the emails notifications gave up on. Every replay is recorded in the support
log with who and why, like the actions on an order."""
from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from tillkey.dashboard.service_layer.errors import NotFound, Rejected
from tillkey.dashboard.service_layer.ports import DeadLetterQueues, PlatformApi, UnitOfWork

LISTED = 100                      # dead letters shown per service; the count says how many there are
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,120}$")


def overview(queues: DeadLetterQueues, uow: UnitOfWork) -> dict[str, Any]:
    """Per service its count (None: no dead-letter queue on this broker yet) and the latest replays."""
    counts: dict[str, int | None] = {}
    for service in queues.services:
        try:
            counts[service] = queues.count(service)
        except NotFound:
            counts[service] = None
    with uow:
        replays = uow.support.recent_actions("replay")
    return {"counts": counts, "replays": replays}


def letters_of(queues: DeadLetterQueues, service: str) -> dict[str, Any]:
    return {"service": service, "count": queues.count(service), "letters": queues.letters(service, LISTED),
            "listed": LISTED}


def letter_of(queues: DeadLetterQueues, service: str, message_id: str) -> dict[str, Any]:
    if not MESSAGE_ID.match(message_id or ""):
        raise NotFound(message_id)
    letter = queues.letter(service, message_id)
    if letter is None:
        raise NotFound(message_id)
    return letter


def replay(queues: DeadLetterQueues, service: str, message_id: str | None, reason: str, who: str,
           uow: UnitOfWork, now: datetime) -> int:
    """Replay one dead letter (`message_id`) or all of `service`'s (None); recorded once the broker took
    them. Replaying is safe: the consumer's inbox ignores a message already handled (docs/operations.md)."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise Rejected("Say why.", {"reason": ["What was fixed, in 1 to 500 characters: it is recorded with "
                                               "your name."]})
    order_id = None
    if message_id is not None:
        order_id = letter_of(queues, service, message_id).get("order_id")
    replayed = queues.replay(service, message_id)
    if message_id is not None and replayed == 0:
        raise NotFound(message_id)     # replayed or dropped by someone else meanwhile
    subject = f"{service}: {message_id}" if message_id else f"{service}: all ({replayed})"
    with uow:
        uow.support.record(f"sup_{secrets.token_hex(10)}", order_id, "replay dead letter" if message_id else
                           "replay dead letters", reason, who, now, subject=subject)
        uow.commit()
    return replayed


def failed_emails(api: PlatformApi, admin_token: str, cursor: str | None) -> dict[str, Any]:
    """Every merchant's emails notifications gave up on, newest first (`GET /v1/messages?status=failed`)."""
    params = {"status": "failed", "limit": 50}
    if cursor:
        if len(cursor) > 500:
            raise Rejected("Not a page of this list.", {"cursor": ["Start again from the first page."]})
        params["cursor"] = cursor
    try:
        return api.call("notifications", "GET", "/v1/messages", admin_token, params=params)
    except Rejected as exc:
        raise Rejected("Not a page of this list.", exc.errors) from None

