"""The upgrade path from the classic retry queues of early releases (docs/deploy.md, "Queue types").

A service's retry queues were first classic queues `<service>.events.retry.<N>ms`: each lives on one
node, so losing that node lost the messages. Today's have other names (redeclaring a queue with
another type or other arguments fails with PRECONDITION_FAILED). A consumer of this version, each
time it connects, calls `retire_classic_retry_queues`: for each old queue that still exists it moves
every waiting message to today's retry queue of the same delay (a confirmed publish, then the ack: a
crash in between leaves a copy in both, which the inbox absorbs) and deletes the old queue once it
is empty. The message keeps its parking time, so its delay still runs from when it was parked
(retry_holder.py).

During a rolling upgrade a consumer of the old version still parks messages in the old queues and
redeclares them; they still send every message back to the main queue when its delay is over, and
the next new consumer to connect retires them again. Nothing is lost in either order. Once no old
consumer runs, the old queues are gone for good and this costs one `queue.delete` per delay per
connection: deleting a queue that is not there succeeds quietly, where a passive declare would
close the channel and log an error on the broker at every worker start.

The quorum retry queues with a TTL of the release before (`<service>.events.retry.quorum.<N>ms`)
are not retired here: a quorum queue refuses `queue.delete` with `if-empty` (and closes the whole
connection), and deleting one without it could drop a message an old worker parks at that moment.
They send what they hold back by themselves; docs/deploy.md says how to delete them after the rollout.
"""
from __future__ import annotations

import logging

from pika.exceptions import ChannelClosedByBroker

from tillkey.messaging.topology import QueueTopology

log = logging.getLogger(__name__)


def retire_classic_retry_queues(connection, topology: QueueTopology) -> int:
    """Move what waits in the old classic retry queues of `topology` to today's and delete each
    old queue that is then empty. Returns the number of messages moved."""
    moved = 0
    channel = connection.channel()
    try:
        for delay in topology.distinct_delays:
            old, new = topology.classic_retry_queue_for(delay), topology.retry_queue_for(delay)
            try:
                channel.queue_delete(old, if_empty=True)  # gone now, or never there: nothing waited
                continue
            except ChannelClosedByBroker:
                channel = connection.channel()  # PRECONDITION_FAILED: messages wait there
            try:
                channel.confirm_delivery()
                here = _move_all(channel, old, new)
                moved += here
                channel.queue_delete(old, if_empty=True)
                log.info("%s: retired the classic retry queue %s (%d waiting message(s) moved to %s)",
                         topology.service, old, here, new)
            except ChannelClosedByBroker as exc:
                # Not empty after all: a consumer of the old version parked one meanwhile. Its TTL
                # still brings it back; the next connection retires the queue.
                log.info("%s: the classic retry queue %s stays for now: %s", topology.service, old, exc)
                channel = connection.channel()
    finally:
        if channel.is_open:
            channel.close()
    return moved


def _move_all(channel, old: str, new: str) -> int:
    moved = 0
    while True:
        method, properties, body = channel.basic_get(old, auto_ack=False)
        if method is None:
            return moved
        # Confirmed and mandatory: raises rather than lose the message (it then stays in `old`).
        channel.basic_publish("", new, body, properties, mandatory=True)
        channel.basic_ack(method.delivery_tag)
        moved += 1
