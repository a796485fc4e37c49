"""The exchange and one service's queues: main queue, per-delay retry queues, dead letters.

Every queue that holds a message is a quorum queue, replicated on every node of the cluster, so the
loss of one node loses nothing and stops nothing (docs/deploy.md). The retry queues used to be
classic queues named `<service>.events.retry.<N>ms`, which live on one node; their quorum
successors have new names (`<service>.events.retry.quorum.<N>ms`) because a queue's type cannot
change under the same name, and `classic_retry_queues.retire_classic_retry_queues` empties and
deletes the old ones when a consumer connects.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from tillkey.contracts import EXCHANGE

DEFAULT_RETRY_DELAYS = (1.0, 5.0, 30.0, 120.0, 600.0)
# A message that crashes its consumer over and over (never acked) is dead-lettered by the broker
# after this many deliveries. RabbitMQ 3.10 sets no limit on quorum queues by default.
DELIVERY_LIMIT = 20
# Lossless dead-lettering out of a quorum queue (3.10+): at-least-once, which needs reject-publish.
# A message dead-lettered twice is a duplicate the consumers' inbox absorbs.
AT_LEAST_ONCE_DEAD_LETTERING = {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}


def _delay_name(seconds: float) -> str:
    return f"{int(seconds * 1000)}ms"


@dataclass(frozen=True)
class QueueTopology:
    service: str
    routing_keys: tuple[str, ...]
    retry_delays: tuple[float, ...] = field(default=DEFAULT_RETRY_DELAYS)

    @property
    def queue(self) -> str:
        return f"{self.service}.events"

    @property
    def dead_queue(self) -> str:
        return f"{self.service}.events.dead"

    def retry_queue(self, attempt: int) -> str:
        """Where a message waits before its `attempt`-th retry (1-based), delays growing."""
        return self.retry_queue_for(self.retry_delays[min(attempt, len(self.retry_delays)) - 1])

    def retry_queue_for(self, delay: float) -> str:
        return f"{self.queue}.retry.quorum.{_delay_name(delay)}"

    def classic_retry_queue_for(self, delay: float) -> str:
        """The name the same delay's retry queue had when retry queues were classic queues."""
        return f"{self.queue}.retry.{_delay_name(delay)}"

    @property
    def max_retries(self) -> int:
        return len(self.retry_delays)

    def declare(self, channel) -> None:
        """Idempotent: every consumer (and `migrate`) declares the topology it relies on."""
        declare_exchange(channel)
        channel.queue_declare(self.dead_queue, durable=True, arguments={"x-queue-type": "quorum"})
        channel.queue_declare(self.queue, durable=True, arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": DELIVERY_LIMIT,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": self.dead_queue,
            **AT_LEAST_ONCE_DEAD_LETTERING,
        })
        for key in self.routing_keys:
            channel.queue_bind(self.queue, EXCHANGE, routing_key=key)
        for delay in sorted(set(self.retry_delays)):
            # A parking queue: the message expires after `delay` and is dead-lettered back to the
            # main queue through the default exchange. A quorum queue expires messages at its head
            # only; with one TTL for the whole queue the head is always the first one due.
            channel.queue_declare(self.retry_queue_for(delay), durable=True, arguments={
                "x-queue-type": "quorum",
                "x-message-ttl": int(delay * 1000),
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.queue,
                **AT_LEAST_ONCE_DEAD_LETTERING,
            })


def declare_exchange(channel) -> None:
    channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
