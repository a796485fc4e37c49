"""The services' dead-letter queues, through the operations library `tillkey-admin` uses
(`tillkey.messaging.admin`, docs/operations.md): the support console lists, shows and replays them;
it never purges (docs/dashboard.md, "Dead letters")."""
from __future__ import annotations

import json
from collections.abc import Mapping

import pika.exceptions

from tillkey.dashboard.service_layer.errors import NotFound, Unavailable
from tillkey.messaging.admin.dead_letters import DeadLetter, DeadLetters

SERVICES = ("orders", "payments", "fulfillment", "notifications", "webhooks")


def _order_id(envelope: dict) -> str | None:
    data = envelope.get("data") if isinstance(envelope, dict) else None
    order_id = data.get("order_id") if isinstance(data, dict) else None
    return order_id if isinstance(order_id, str) else None


def _as_dict(letter: DeadLetter) -> dict:
    text = letter.body.decode("utf-8", errors="replace")
    try:
        envelope = json.loads(letter.body)
        text = json.dumps(envelope, indent=2, ensure_ascii=False, sort_keys=True)
    except ValueError:
        envelope = {}
    headers = {k: v.decode("utf-8", errors="replace") if isinstance(v, bytes) else v
               for k, v in letter.headers.items() if k != "x-death"}
    return {**letter.summary(), "order_id": _order_id(envelope), "body": text,
            "headers": json.dumps(headers, indent=2, default=str, sort_keys=True)}


class BrokerDeadLetters:
    """`queues` maps the service shown to the name its queues carry (`<name>.events.dead`): the same
    name in production, names of a test's own in tests."""

    def __init__(self, amqp_url: str, queues: Mapping[str, str] | None = None):
        self._amqp_url = amqp_url
        self._queues = dict(queues or {s: s for s in SERVICES})
        self.services = tuple(self._queues)

    def _run(self, service: str, job):
        if service not in self._queues:
            raise NotFound(service)
        try:
            return job(DeadLetters(self._amqp_url, self._queues[service]))
        except pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code == 404:    # the service's worker never declared its queues here
                raise NotFound(service) from None
            raise Unavailable("broker") from None
        except (pika.exceptions.AMQPError, OSError):
            raise Unavailable("broker") from None   # the 503 page: "The broker service did not answer"

    def count(self, service: str) -> int:
        return self._run(service, lambda d: d.count())

    def letters(self, service: str, limit: int) -> list[dict]:
        return self._run(service, lambda d: [_as_dict(letter) for letter in d.list(limit)])

    def letter(self, service: str, message_id: str) -> dict | None:
        found = self._run(service, lambda d: d.show(message_id))
        return _as_dict(found) if found is not None else None

    def replay(self, service: str, message_id: str | None) -> int:
        return self._run(service, lambda d: d.replay(message_id))
