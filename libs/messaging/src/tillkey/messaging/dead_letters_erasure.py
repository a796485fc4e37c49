"""Erasure reaches the messages a service keeps aside: its dead letters and its retry queues.

A message waiting in `<service>.events.dead` (or between retries in `<service>.events.retry.*`) is a
copy of an event, and `order.created` carries the customer. The 90-day erasure (docs/architecture.md §2.4) cleans
every database; this cleans the broker. Two parts, each run by the worker that owns the queues:

- `DeadLetterEraser`: an extra `order.deleted` handler. It goes through the service's dead-letter
  and retry queues and replaces each message about that order that holds personal data with a
  redacted copy: the customer's personal fields set to null (`erase_order_data`, the rule every
  database follows) and those values cut out of the recorded failure reason. It runs before the
  `order.deleted` message is acked, so a crash or a broker hiccup makes it run again (it is
  idempotent).
- `DeadLetterRetention` (dead_letters_retention.py): a loop that drops dead letters older than
  `DEAD_LETTER_RETENTION` and logs one line for each. This bounds whatever erasure cannot
  recognise (a body that is not JSON).

Messages are taken as `dead_letters_sweep` says; untouched ones go back. A copy is broker-confirmed
before the original is acked. A crash in between leaves both: order.deleted is redelivered and the
next sweep redacts the leftover, and the consumer's inbox absorbs the duplicate on a replay.

The retry messages the eraser's own consumer holds until they are due (retry_holder.py) are given
back to their queues for the sweep and taken again after it (`given_back`).

Known limit: a message another client holds unacked during the sweep is invisible to it. That
client can be `tillkey-admin dead-letters list`, the retention loop or the consumer of a second
replica (holding retries). The retention period bounds a dead letter; a retry ends in hours.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence

import pika

from tillkey.contracts import Envelope
from tillkey.contracts.personal_data import erase_order_data, personal_values
from tillkey.messaging.connection import short_connection
from tillkey.messaging.consumer import REASON_HEADER
from tillkey.messaging.dead_letters_retention import DeadLetterRetention
from tillkey.messaging.dead_letters_sweep import each_queue
from tillkey.messaging.dispatch import InboxDispatcher, InboxHandler
from tillkey.messaging.inbox_retention import inbox_retention
from tillkey.messaging.retry_holder import given_back
from tillkey.messaging.topology import QueueTopology

log = logging.getLogger(__name__)

REDACTED_HEADER = "x-tillkey-redacted"
ERASED = "[erased]"


def _retry_queues(topology: QueueTopology) -> list[str]:
    return [topology.retry_queue(attempt) for attempt in range(1, topology.max_retries + 1)]


def _envelope(body: bytes) -> dict | None:
    try:
        envelope = json.loads(body)
    except ValueError:
        return None
    return envelope if isinstance(envelope, dict) and isinstance(envelope.get("data"), dict) else None


def redacted(body: bytes, headers: Mapping, order_id: str) -> tuple[bytes, dict] | None:
    """The body and headers of a message about `order_id` with its personal data erased, or None
    if it is about another order or holds nothing personal."""
    envelope = _envelope(body)
    if envelope is None or envelope["data"].get("order_id") != order_id:
        return None
    needles = personal_values(envelope["data"])
    erased = erase_order_data(envelope["data"])
    new_headers = dict(headers)
    reason = new_headers.get(REASON_HEADER)
    if isinstance(reason, bytes):
        reason = reason.decode(errors="replace")
    if isinstance(reason, str):
        for needle in needles:
            reason = reason.replace(needle, ERASED)
        new_headers[REASON_HEADER] = reason
    if erased == envelope["data"] and new_headers == dict(headers):
        return None
    new_headers[REDACTED_HEADER] = 1
    return json.dumps({**envelope, "data": erased}).encode(), new_headers


class DeadLetterEraser:
    """`order.deleted` handler (event, uow): redact the order's messages in this service's dead-letter
    and retry queues. Owns no database work; it runs in the handler's unit of work only so that the
    message is acked after the broker is clean."""

    def __init__(self, amqp_url: str, topology: QueueTopology):
        self.amqp_url, self.topology = amqp_url, topology
        self.__qualname__ = f"DeadLetterEraser.{topology.service}"  # the inbox names handlers by it

    def __call__(self, event: Envelope, _uow: object = None) -> int:
        return self.erase(event.data["order_id"])

    def erase(self, order_id: str) -> int:
        queues = [self.topology.dead_queue, *_retry_queues(self.topology)]
        changed = 0
        with given_back(self.topology.service), \
                short_connection(self.amqp_url, f"{self.topology.service} dead-letter erasure") as connection:
            for queue, channel, taken in each_queue(connection, queues):
                for tag, properties, body in taken:
                    copy = redacted(body, properties.headers or {}, order_id)
                    if copy is None:
                        continue
                    new_body, headers = copy
                    # Confirmed (confirm_delivery) and mandatory: raises rather than lose the copy.
                    channel.basic_publish("", queue, new_body, pika.BasicProperties(
                        content_type=properties.content_type or "application/json",
                        delivery_mode=pika.DeliveryMode.Persistent, message_id=properties.message_id,
                        type=properties.type, headers=headers, timestamp=properties.timestamp), mandatory=True)
                    channel.basic_ack(tag)
                    changed += 1
        if changed:
            log.info("%s: erased the personal data of order %s from %d kept message(s)",
                     self.topology.service, order_id, changed)
        return changed


ERASER_NAME = "erase_dead_letters"


def with_dead_letter_erasure(handlers: Mapping[str, Sequence], eraser: DeadLetterEraser) -> dict:
    """`handlers` with the eraser after the service's own `order.deleted` handlers, if it has any
    (a service that never binds order.deleted never gets order.created either)."""
    out = dict(handlers)
    if "order.deleted" in out:
        # Named like every handler of the table: the inbox records it by this name (make chaos saw
        # every worker exit on order.deleted while it was a bare callable without one).
        out["order.deleted"] = [*out["order.deleted"], InboxHandler(ERASER_NAME, eraser)]
    return out


DEFAULT_RETENTION = "30d"


def dead_letter_care(amqp_url: str, topology: QueueTopology, dispatcher, environ: Mapping[str, str] | None = None
                     ) -> dict:
    """For a worker's `build_workers`: installs the eraser on `dispatcher` (after the service's own
    order.deleted handlers) and returns the retention loops to run beside the consumer: dead letters
    swept every tenth of `DEAD_LETTER_RETENTION` but at least every second and at most every hour,
    and inbox rows deleted after `INBOX_RETENTION` (inbox_retention), checked as often."""
    import os

    from tillkey.platform.config import parse_duration

    environ = os.environ if environ is None else environ
    retention = parse_duration(environ.get("DEAD_LETTER_RETENTION", "30d") or DEFAULT_RETENTION)
    inbox_setting = environ.get("INBOX_RETENTION") or None
    kept = inbox_retention(retention, max(topology.retry_delays, default=0.0),
                           parse_duration(inbox_setting) if inbox_setting else None)
    inbox = dispatcher
    while not isinstance(inbox, InboxDispatcher):
        inbox = inbox.dispatcher  # a service's wrapper around it (payments' follow-ups)
    inbox.handlers = with_dead_letter_erasure(inbox.handlers, DeadLetterEraser(amqp_url, topology))
    interval = min(3600.0, max(1.0, retention / 10))
    return {"dead-letters": DeadLetterRetention(amqp_url, topology, retention, interval=interval),
            "inbox-retention": inbox.retention(topology.service, kept, interval=interval)}
