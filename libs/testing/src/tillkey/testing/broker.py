"""The real RabbitMQ as tests use it: declare a consumer's queues, publish, count, drain, and delete
at teardown every queue the test owns (stale bindings would catch later tests' events)."""
from __future__ import annotations

import pika

from tillkey.contracts import EXCHANGE


class Broker:
    def __init__(self, amqp_url: str):
        self.url = amqp_url
        self.owned: list[str] = []

    def own(self, topology) -> None:
        """Delete a consumer topology's queues after the test."""
        retries = {topology.retry_queue(n) for n in range(1, topology.max_retries + 1)}
        self.owned += [topology.queue, topology.dead_queue, *sorted(retries)]

    def declare(self, topology):
        """Declare a consumer topology's queues now (owned: deleted after the test); → the topology."""
        self.own(topology)
        conn, ch = self._channel()
        try:
            topology.declare(ch)
        finally:
            conn.close()
        return topology

    def declare_queues(self, *names: str) -> None:
        """Plain durable queues of the test's own, deleted after it."""
        conn, ch = self._channel()
        try:
            for name in names:
                ch.queue_declare(name, durable=True)
                self.owned.append(name)
        finally:
            conn.close()

    def delete_owned(self) -> None:
        conn, ch = self._channel()
        try:
            for name in self.owned:
                ch.queue_delete(name)
        finally:
            conn.close()

    def _channel(self):
        conn = pika.BlockingConnection(pika.URLParameters(self.url))
        return conn, conn.channel()

    def bind_counting_queue(self, name: str, routing_key: str = "order.created") -> None:
        conn, ch = self._channel()
        try:
            ch.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
            ch.queue_declare(name, durable=True)
            self.owned.append(name)
            ch.queue_bind(name, EXCHANGE, routing_key=routing_key)
        finally:
            conn.close()

    def publish(self, body: bytes, routing_key: str = "order.created", message_id: str | None = None) -> None:
        conn, ch = self._channel()
        try:
            ch.confirm_delivery()
            ch.basic_publish(EXCHANGE, routing_key, body, pika.BasicProperties(
                content_type="application/json", delivery_mode=2, message_id=message_id), mandatory=True)
        finally:
            conn.close()

    def put(self, queue: str, body: bytes, properties: pika.BasicProperties) -> None:
        """Straight into `queue` (the default exchange), confirmed: a dead letter, say."""
        conn, ch = self._channel()
        try:
            ch.confirm_delivery()
            ch.basic_publish("", queue, body, properties)
        finally:
            conn.close()

    def depth(self, queue: str) -> int:
        conn, ch = self._channel()
        try:
            return ch.queue_declare(queue, passive=True).method.message_count
        finally:
            conn.close()

    def drain(self, queue: str) -> list[tuple[pika.BasicProperties, bytes]]:
        """Every message now in `queue` (acked, so the queue is empty afterwards)."""
        conn, ch = self._channel()
        out: list[tuple[pika.BasicProperties, bytes]] = []
        try:
            while True:
                method, props, body = ch.basic_get(queue, auto_ack=True)
                if method is None:
                    return out
                out.append((props, body))
        finally:
            conn.close()
