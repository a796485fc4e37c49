"""Queue naming and the retry ladder (no broker needed)."""
from tillkey.messaging import QueueTopology


def test_names_and_retry_ladder():
    t = QueueTopology("fulfillment", ("order.created",), retry_delays=(0.2, 0.4, 5.0))
    assert t.queue == "fulfillment.events"
    assert t.dead_queue == "fulfillment.events.dead"
    assert [t.retry_queue(n) for n in (1, 2, 3)] == ["fulfillment.events.retry.held.200ms",
                                                     "fulfillment.events.retry.held.400ms",
                                                     "fulfillment.events.retry.held.5000ms"]
    # The queues of the versions before: classic (retired by classic_retry_queues), then quorum with a TTL.
    assert t.classic_retry_queue_for(0.4) == "fulfillment.events.retry.400ms"
    assert t.ttl_retry_queue_for(0.4) == "fulfillment.events.retry.quorum.400ms"
    assert t.max_retries == 3
    assert t.retry_queue(9) == t.retry_queue(3)  # past the ladder: the longest delay
