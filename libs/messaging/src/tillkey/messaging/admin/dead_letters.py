"""Dead letters of one service: read, replay to its queue, purge.

Reading takes messages from `<service>.events.dead` without acknowledging them and gives them all
back when the channel closes, so looking never loses one. Replaying publishes a copy to
`<service>.events` (broker-confirmed) and only then acknowledges the dead letter: a crash in between
leaves both, and the consumer's inbox makes the second handling a no-op. A replayed message starts
its retries afresh (our attempt header and reason dropped) and says it was replayed.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pika

from tillkey.messaging.connection import short_connection
from tillkey.messaging.consumer import ATTEMPT_HEADER, REASON_HEADER

REPLAYED_HEADER = "x-tillkey-replayed"


@dataclass
class DeadLetter:
    message_id: str | None
    type: str | None
    reason: str
    attempts: int
    correlation_id: str | None
    occurred_at: str | None
    replayed: int
    body: bytes
    headers: dict

    def summary(self) -> dict:
        return {"message_id": self.message_id, "type": self.type, "reason": self.reason, "attempts": self.attempts,
                "correlation_id": self.correlation_id, "occurred_at": self.occurred_at, "replayed": self.replayed}


def _reason(headers: dict) -> str:
    if headers.get(REASON_HEADER):
        return str(headers[REASON_HEADER])
    # Dead-lettered by the broker itself (x-delivery-limit: the message crashed its consumer each time).
    deaths = headers.get("x-death") or []
    if deaths:
        death = deaths[0]
        return f"broker: {_text(death.get('reason'))} in {_text(death.get('queue'))}"
    return "(no reason recorded)"


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _letter(properties, body: bytes) -> DeadLetter:
    headers = dict(properties.headers or {})
    try:
        envelope = json.loads(body)
    except ValueError:
        envelope = {}
    envelope = envelope if isinstance(envelope, dict) else {}
    try:
        attempts = int(headers.get(ATTEMPT_HEADER, 0))
    except (TypeError, ValueError):
        attempts = 0
    return DeadLetter(
        message_id=properties.message_id or envelope.get("id"), type=properties.type or envelope.get("type"),
        reason=_reason(headers), attempts=attempts, correlation_id=envelope.get("correlation_id"),
        occurred_at=envelope.get("occurred_at"), replayed=int(headers.get(REPLAYED_HEADER, 0) or 0),
        body=body, headers=headers)


class DeadLetters:
    def __init__(self, amqp_url: str, service: str):
        self._amqp_url = amqp_url
        self.service = service
        self.queue = f"{service}.events"
        self.dead_queue = f"{service}.events.dead"

    @contextmanager
    def _channel(self):
        # Closing the connection afterwards gives every message taken and not acked back to the queue.
        with short_connection(self._amqp_url, f"tillkey-admin {self.service}") as connection:
            channel = connection.channel()
            channel.queue_declare(self.dead_queue, passive=True)  # a wrong service name fails here
            yield channel

    def count(self) -> int:
        with self._channel() as channel:
            return channel.queue_declare(self.dead_queue, passive=True).method.message_count

    def _taken(self, channel, limit: int | None) -> Iterator[tuple[int, DeadLetter]]:
        """(delivery tag, letter) for each message, oldest first, none acknowledged."""
        taken = 0
        while limit is None or taken < limit:
            method, properties, body = channel.basic_get(self.dead_queue, auto_ack=False)
            if method is None:
                return
            taken += 1
            yield method.delivery_tag, _letter(properties, body)

    def list(self, limit: int = 100) -> list[DeadLetter]:
        with self._channel() as channel:
            return [letter for _tag, letter in self._taken(channel, limit)]

    def show(self, message_id: str) -> DeadLetter | None:
        with self._channel() as channel:
            found = (letter for _tag, letter in self._taken(channel, None) if letter.message_id == message_id)
            return next(found, None)

    def replay(self, message_id: str | None = None) -> int:
        """Replay `message_id`, or every dead letter when None; returns how many went back."""
        replayed = 0
        with self._channel() as channel:
            channel.confirm_delivery()
            for tag, letter in list(self._taken(channel, None)):
                if message_id is not None and letter.message_id != message_id:
                    continue
                headers = {k: v for k, v in letter.headers.items()
                           if k not in (ATTEMPT_HEADER, REASON_HEADER, "x-death", "x-first-death-exchange",
                                        "x-first-death-queue", "x-first-death-reason")}
                headers[REPLAYED_HEADER] = letter.replayed + 1
                # Confirmed (confirm_delivery) and mandatory: raises rather than lose the copy.
                channel.basic_publish("", self.queue, letter.body, pika.BasicProperties(
                    content_type="application/json", delivery_mode=pika.DeliveryMode.Persistent,
                    message_id=letter.message_id, type=letter.type, headers=headers), mandatory=True)
                channel.basic_ack(tag)
                replayed += 1
        return replayed

    def purge(self) -> int:
        with self._channel() as channel:
            return channel.queue_purge(self.dead_queue).method.message_count
