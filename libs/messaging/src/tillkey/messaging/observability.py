"""Gauges a worker computes when Prometheus scrapes it (never per message): its outbox backlog
and the depth of its queues. The relay and the consumer offer them as `metrics_collectors`."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Table, func, select

from tillkey.messaging.connection import short_connection
from tillkey.messaging.topology import QueueTopology
from tillkey.platform.metrics import ScrapeCollector


def outbox_collectors(service: str, session_factory, outbox: Table) -> list[ScrapeCollector]:
    """Backlog and age of the oldest unpublished event: one indexed query (ix_outbox_unpublished)
    per scrape. A backlog that grows while the age climbs means the relay cannot publish."""
    cache: dict = {}

    def read() -> tuple[int, float]:
        with session_factory() as session:
            count, oldest = session.execute(select(func.count(), func.min(outbox.c.created_at))
                                            .where(outbox.c.published_at.is_(None))).one()
        if oldest is None:
            return count, 0.0
        if oldest.tzinfo is None:  # SQLite hands back naive datetimes; they were written in UTC
            oldest = oldest.replace(tzinfo=UTC)
        return count, max(0.0, (datetime.now(UTC) - oldest).total_seconds())

    def backlog() -> dict:
        cache["count"], cache["age"] = read()
        return {(service,): cache["count"]}

    return [
        ScrapeCollector("tillkey_outbox_backlog", "Events committed but not yet published", ["service"], backlog),
        # Read right after the backlog in the same scrape: no second query.
        ScrapeCollector("tillkey_outbox_oldest_age_seconds", "Age of the oldest unpublished event (0: none)",
                        ["service"], lambda: {(service,): cache.pop("age", 0.0)} if "count" in cache else {}),
    ]


def queue_collectors(amqp_url: str, topology: QueueTopology) -> list[ScrapeCollector]:
    """Ready messages in the service's queue, each retry queue and its dead letters (a passive
    declare each, on a connection of the scrape's own: pika connections are one per thread), and
    whether the broker answered at all."""
    cache: dict = {}

    def depths() -> dict:
        queues = [topology.queue, *sorted({topology.retry_queue(a) for a in range(1, topology.max_retries + 1)}),
                  topology.dead_queue]
        cache["up"] = 0.0
        with short_connection(amqp_url, f"{topology.service} queue metrics", socket_timeout=2) as connection:
            channel = connection.channel()
            found = {(topology.service, q): channel.queue_declare(q, passive=True).method.message_count
                     for q in queues}
        cache["up"] = 1.0
        return found

    return [
        ScrapeCollector("tillkey_queue_messages", "Messages ready in a queue (main, retry, dead letters)",
                        ["service", "queue"], depths),
        ScrapeCollector("tillkey_broker_up", "1 when the broker answered this scrape", ["service"],
                        lambda: {(topology.service,): cache.pop("up", 0.0)}),
    ]
