"""Going through the messages one of a service's kept queues holds (dead letters, retries).

`basic_get` without an ack, up to the count the queue had when the sweep began, so a copy published
to the tail is never read again in the same sweep; what is not acked goes back when the queue's
channel closes. A retry queue (a quorum queue) keeps each message's order and delay through that:
a returned message goes back ahead of the others and its delay runs from the parking time in its
header, not from its return (libs/messaging/tests/test_retry_queues.py checks both). A message the
service's consumer holds until its delay is over (retry_holder.py) is not seen by a sweep.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import pika
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

# A message taken and not acked yet: (delivery tag, its properties, its body).
Taken = tuple[int, pika.BasicProperties, bytes]


def each_queue(connection: BlockingConnection, queues: Sequence[str]
               ) -> Iterator[tuple[str, BlockingChannel, list[Taken]]]:
    """(queue, channel, its messages) per queue that exists. Each queue gets its own channel: closing it
    gives back every message taken and not acked, and a missing queue (a consumer that has not
    declared its topology yet) closes only that channel."""
    for queue in queues:
        channel = connection.channel()
        channel.confirm_delivery()
        try:
            count = channel.queue_declare(queue, passive=True).method.message_count
        except pika.exceptions.ChannelClosedByBroker:
            continue  # nothing kept there yet
        taken: list[Taken] = []
        for _ in range(count):
            method, properties, body = channel.basic_get(queue, auto_ack=False)
            if method is None:
                break
            taken.append((method.delivery_tag, properties, body))
        try:
            yield queue, channel, taken
        finally:
            if channel.is_open:
                channel.close()
