"""The consumer's handler: take a public event in, number it, and queue one delivery per endpoint.

Everything here commits in the dispatcher's transaction together with the inbox row, so a
redelivered message never numbers an event twice nor creates a second delivery.
"""
from __future__ import annotations

from tillkey.contracts import ORDER_SCOPED_PUBLIC_TYPES, Envelope
from tillkey.contracts.personal_data import erase_order_data
from tillkey.messaging import RetryLater, prefetching
from tillkey.webhooks.domain import payload
from tillkey.webhooks.domain.model import Delivery, OrderRecord, WebhookEvent
from tillkey.webhooks.service_layer.delivering import Job
from tillkey.webhooks.service_layer.ports import Deps, UnitOfWork


def _order_record(event: Envelope, uow: UnitOfWork) -> OrderRecord | None:
    """The record of the event's order (None for events not about one order), locked."""
    if event.type not in ORDER_SCOPED_PUBLIC_TYPES:
        return None
    data = event.data
    record = uow.order_records.get(data["order_id"])
    if event.type == "order.created":
        if record is None:
            record = OrderRecord(order_id=data["order_id"], merchant_id=data["merchant_id"],
                                 custom=dict(data.get("custom") or {}))
            uow.order_records.add(record)
        elif record.awaits_created:
            record.custom = dict(data.get("custom") or {})  # a tombstone: the order's custom comes only now
    elif record is None or record.awaits_created:
        # Sequence 1 belongs to order.created: wait for it (the broker's retry path redelivers
        # this message later; sleeping here would hold up every other message).
        raise RetryLater(f"order {data['order_id']} not seen yet (waiting for order.created)")
    return record


def _prefetch(events: list[Envelope], uow: UnitOfWork) -> None:
    """For a consumer's batch: its order records locked, and its merchants' endpoints, each in one
    query. Nothing is queried while the events are then taken in, so nothing is written piecemeal:
    the batch's rows go at commit, each table in one statement."""
    uow.order_records.lock({e.data["order_id"] for e in events if e.type in ORDER_SCOPED_PUBLIC_TYPES})
    uow.endpoints.load_live({e.data["merchant_id"] for e in events if "merchant_id" in e.data})


@prefetching(_prefetch)   # the batch path calls it once, with the same unit of work, before take_event runs for each
def take_event(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    record = _order_record(event, uow)
    sequence = record.take_sequence() if record is not None else None
    merchant_id = event.data["merchant_id"]
    endpoints = [e for e in uow.endpoints.live(merchant_id) if e.subscribes(event.type)]
    if not endpoints:  # (a redelivered event never gets here: the inbox row of this handler stops it)
        return
    now = deps.clock.now()
    data = payload.public_data(event.type, event.data, record.custom if record is not None else None)
    if record is not None and record.erased_at is not None:
        # The order was deleted before this event was taken in (order.deleted overtook order.created):
        # it is stored, and sent, without the customer's personal data.
        data = erase_order_data(data)
    body = payload.body(event.id, event.type, event.occurred_at, sequence, data)
    lease = uow.sending_lease()
    deliveries = [Delivery(delivery_id=deps.new_id("whd"), endpoint_id=endpoint.endpoint_id,
                           merchant_id=merchant_id, event_id=event.id, event_type=event.type, created_at=now,
                           next_attempt_at=now, lease_expires_at=now + lease if lease is not None else None)
                  for endpoint in endpoints]
    # Written with the rest of the batch's (one INSERT of events, one of deliveries) before the
    # transaction's next read of them, or at commit.
    uow.events.add(WebhookEvent(event_id=event.id, merchant_id=merchant_id, type=event.type, sequence=sequence,
                                body=body, created_at=now, order_id=record.order_id if record is not None else None))
    for delivery in deliveries:
        uow.deliveries.add(delivery)
    if lease is not None:  # this process sends them: leased here, handed over after the commit
        for endpoint, delivery in zip(endpoints, deliveries, strict=True):
            uow.hand_off(Job(delivery.delivery_id, endpoint.endpoint_id, endpoint.url, event.id, body,
                             tuple(endpoint.signing_secrets(now))))

