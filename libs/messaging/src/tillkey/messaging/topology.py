"""The exchange and one service's queues: main queue, per-delay retry queues, dead letters.

Every queue that holds a message is a quorum queue, replicated on every node of the cluster, so the
loss of one node loses nothing and stops nothing (docs/deploy.md). A retry queue
`<service>.events.retry.held.<N>ms` has no TTL: the service's own consumer holds what waits there
and puts each message back on the main queue when its delay is over (retry_holder.py). Its two
predecessors are the classic `<service>.events.retry.<N>ms` (one node: losing it lost the messages;
retired when a consumer connects, old_retry_queues.py) and the quorum
`<service>.events.retry.quorum.<N>ms`, whose TTL handed each message to the broker's dead-letter
worker: after a leader change that worker can be missing, and the messages then never came back
(seen with RabbitMQ 3.10.8 in libs/messaging/tests/test_broker_cluster.py). A queue's type and
arguments cannot change under the same name, hence the new names.
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
        return f"{self.queue}.retry.held.{_delay_name(delay)}"

    def classic_retry_queue_for(self, delay: float) -> str:
        """The name the same delay's retry queue had when retry queues were classic queues."""
        return f"{self.queue}.retry.{_delay_name(delay)}"

    def ttl_retry_queue_for(self, delay: float) -> str:
        """The name it had after that, as a quorum queue with a TTL (drains itself: docs/deploy.md)."""
        return f"{self.queue}.retry.quorum.{_delay_name(delay)}"

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
        for delay in self.distinct_delays:
            # A parking queue without a TTL: the consumer takes its messages, holds them unacked
            # and publishes each back to the main queue when due (retry_holder.py).
            channel.queue_declare(self.retry_queue_for(delay), durable=True, arguments={"x-queue-type": "quorum"})

    @property
    def distinct_delays(self) -> list[float]:
        return sorted(set(self.retry_delays))


def declare_exchange(channel) -> None:
    channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
