"""Dead letters do not wait for ever: each worker drops its own after `DEAD_LETTER_RETENTION`."""
from __future__ import annotations

import calendar
import logging
import time
from collections.abc import Callable
from datetime import datetime

import pika

from tillkey.messaging.connection import short_connection
from tillkey.messaging.consumer import REASON_HEADER
from tillkey.messaging.dead_letters_sweep import each_queue
from tillkey.messaging.topology import QueueTopology
from tillkey.platform.periodic import PeriodicLoop

log = logging.getLogger(__name__)

PARKED_AT_HEADER = "x-tillkey-parked-at"  # unix seconds: the retention loop dates an undated dead letter


def parked_at(properties) -> float | None:
    """When the message was dead-lettered (unix seconds), if known. The consumer stamps the AMQP
    timestamp when it parks a message (with its reason header); a message the broker dead-lettered
    itself (delivery limit) has the time in its newest x-death entry; the retention loop stamps a
    header on a message that had neither."""
    headers = properties.headers or {}
    stamped = headers.get(PARKED_AT_HEADER)
    if isinstance(stamped, (int, float)) and stamped > 0:
        return float(stamped)
    timestamp = properties.timestamp if isinstance(properties.timestamp, int) and properties.timestamp > 0 else None
    deaths = headers.get("x-death") or []
    died = deaths[0].get("time") if deaths and isinstance(deaths[0], dict) else None
    if headers.get(REASON_HEADER) is None and isinstance(died, datetime):
        # pika reads AMQP timestamps as naive UTC datetimes.
        return float(calendar.timegm(died.utctimetuple()))
    return float(timestamp) if timestamp is not None else None


class DeadLetterRetention(PeriodicLoop):
    """Every `interval` seconds, drop the service's dead letters older than `retention` seconds (one
    log line each). A message whose age is unknown is stamped now (republished with the time) so it
    is dropped one retention period later rather than kept for ever."""

    def __init__(self, amqp_url: str, topology: QueueTopology, retention: float, interval: float = 3600.0,
                 clock: Callable[[], float] = time.time):
        # A broker that is down is expected, and the consumer says so too: one line, no traceback,
        # and another try within a minute rather than an hour.
        super().__init__(f"{topology.service}: dead-letter retention sweep", interval,
                         retry_after=min(interval, 60.0), traceback_on_failure=False)
        self.amqp_url, self.topology, self.retention = amqp_url, topology, retention
        self._clock = clock

    def tick(self) -> int:
        return self.sweep()

    def sweep(self) -> int:
        dropped = 0
        now = self._clock()
        with short_connection(self.amqp_url, f"{self.topology.service} dead-letter retention") as connection:
            for queue, channel, taken in each_queue(connection, [self.topology.dead_queue]):
                for tag, properties, body in taken:
                    at = parked_at(properties)
                    if at is None:
                        headers = {**(properties.headers or {}), PARKED_AT_HEADER: int(now)}
                        channel.basic_publish("", queue, body, pika.BasicProperties(
                            content_type=properties.content_type, delivery_mode=pika.DeliveryMode.Persistent,
                            message_id=properties.message_id, type=properties.type, headers=headers),
                            mandatory=True)
                    elif now - at < self.retention:
                        continue
                    else:
                        log.warning("%s: dropped dead letter %s (%s), dead-lettered %.0f s ago, past the %.0f s "
                                    "retention", self.topology.service, properties.message_id, properties.type,
                                    now - at, self.retention)
                        dropped += 1
                    channel.basic_ack(tag)
        return dropped
