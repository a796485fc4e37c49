"""order.deleted: erase the deleted order's customer from everything webhooks stored about it.

What is kept: amounts, lines, ids, `custom` (the merchant's own reference), sequence numbers and
the delivery log's statuses and timings — accounting and the merchant's reconciliation need them.

Deliveries of this order that are still pending or retrying send the erased body from now on
(the worker reads the body when it claims a delivery), and so does a redelivery. That changes the
bytes sent under a webhook-id the merchant may have seen before; we accept that: a merchant
receiving the personal data of an order after it was deleted would be worse, and receivers
deduplicate on webhook-id, not on the body. Only an attempt already on the wire when the erasure
commits still carries the old body (it was snapshotted at claim time, seconds before).
"""
from __future__ import annotations

from tillkey.contracts import Envelope
from tillkey.webhooks.domain import erasure
from tillkey.webhooks.domain.model import OrderRecord
from tillkey.webhooks.service_layer.ports import Deps, UnitOfWork


def erase_order(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    order_id, merchant_id = event.data["order_id"], event.data["merchant_id"]
    now = deps.clock.now()
    record = uow.order_records.get(order_id)  # locked: events of this order taken in meanwhile wait for us
    if record is None:
        # order.deleted overtook order.created. Remember the deletion rather than only waiting for
        # order.created: the waiting ends some day (dead letter), the tombstone does not, so an
        # order.created that comes later still is stored erased. A concurrent order.created
        # inserting the same row makes one of the two fail (at the read just below, which writes
        # the tombstone first, or at commit) and be retried.
        uow.order_records.add(OrderRecord.tombstone(order_id, merchant_id, now))
    else:
        record.erase(now)
    stored = uow.events.of_order(order_id)
    values = [v for e in stored for v in erasure.body_personal_values(e.body)]
    for e in stored:
        e.body = erasure.erase_body(e.body)
    if values:
        # The receivers' answers are the merchant's, and stay — except where they echo the customer.
        for attempt in uow.deliveries.attempts_of_events([e.event_id for e in stored]):
            attempt.response_excerpt = erasure.scrub(attempt.response_excerpt, values)
            attempt.error = erasure.scrub(attempt.error, values)
