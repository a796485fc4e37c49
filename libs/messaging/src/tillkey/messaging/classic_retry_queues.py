"""The upgrade path from classic retry queues to quorum ones (docs/deploy.md, "Queue types").

Before, a service's retry queues were classic queues `<service>.events.retry.<N>ms`: each lives on
one node, so losing that node lost the messages waiting there. Their quorum successors have new
names (redeclaring a queue with another type fails with PRECONDITION_FAILED). A consumer of the new
version, each time it connects, calls `retire_classic_retry_queues`: for each old queue that still
exists it moves every waiting message to the quorum retry queue of the same delay (a confirmed
publish, then the ack: a crash in between leaves a copy in both, which the inbox absorbs) and
deletes the old queue once it is empty. The message waits its delay again from the move.

During a rolling upgrade a consumer of the old version still parks messages in the old queues and
redeclares them; they still send every message back to the main queue when its delay is over, and
the next new consumer to connect retires them again. Nothing is lost in either order. Once no old
consumer runs, the old queues are gone for good and this costs one `queue.delete` per delay per
connection: deleting a queue that is not there succeeds quietly, where a passive declare would
close the channel and log a warning on every worker start.
"""
from __future__ import annotations

import logging

from pika.exceptions import ChannelClosedByBroker

from tillkey.messaging.topology import QueueTopology

log = logging.getLogger(__name__)


def retire_classic_retry_queues(connection, topology: QueueTopology) -> int:
    """Move what waits in the old classic retry queues of `topology` to their quorum successors
    and delete each old queue that is then empty. Returns the number of messages moved."""
    moved = 0
    channel = connection.channel()
    try:
        for delay in sorted(set(topology.retry_delays)):
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
