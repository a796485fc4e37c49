"""Use cases for the merchant's delivery log: list with attempts, redeliver."""
from __future__ import annotations

import json
from dataclasses import dataclass

from tillkey.webhooks.domain.model import Delivery, WebhookEvent
from tillkey.webhooks.service_layer.errors import Conflict, NotFound


@dataclass(frozen=True)
class DeliveryQuery:
    merchant_id: str
    endpoint_id: str | None = None
    event_id: str | None = None
    status: str | None = None
    order_id: str | None = None
    limit: int = 50
    cursor: str | None = None


def list_deliveries(q: DeliveryQuery, uow) -> tuple[list[dict], str | None]:
    with uow:
        if q.order_id is not None:
            # Another merchant's order, or one whose order.created has not been taken in yet: not
            # found, as every service answers about an order it may not show (docs/architecture.md §5).
            if uow.order_owner(q.order_id) != q.merchant_id:
                raise NotFound("order")
        rows, next_cursor = uow.deliveries_page(q.merchant_id, endpoint_id=q.endpoint_id, event_id=q.event_id,
                                                status=q.status, limit=q.limit, cursor=q.cursor,
                                                order_id=q.order_id)
        attempts = uow.attempts_of([d.delivery_id for d in rows])
        events = uow.events_by_ids([d.event_id for d in rows])
        return [view(d, attempts[d.delivery_id], events[d.event_id]) for d in rows], next_cursor


def redeliver(merchant_id: str, delivery_id: str, uow) -> dict:
    """One more attempt of the same delivery (same webhook-id), sent by the worker at once."""
    with uow:
        delivery = uow.delivery(delivery_id, merchant_id=merchant_id, lock=True)
        if delivery is None:
            raise NotFound("webhook delivery")
        endpoint = uow.endpoint_by_id(delivery.endpoint_id)
        if endpoint is None or endpoint.deleted_at is not None:
            raise Conflict("The endpoint of this delivery was deleted.")
        if not endpoint.enabled:
            raise Conflict("The endpoint is disabled; re-enable it (PATCH enabled=true) first.")
        delivery.request_redelivery(uow.clock.now())  # Conflict when one is already waiting or being sent
        uow.commit()
        return view(delivery, uow.attempts_of([delivery.delivery_id])[delivery.delivery_id],
                    uow.event(delivery.event_id))


def view(delivery: Delivery, attempts: list, event: WebhookEvent) -> dict:
    fields = ("delivery_id", "endpoint_id", "event_id", "event_type", "status", "next_attempt_at",
              "last_attempt_at", "created_at")
    out = {f: getattr(delivery, f) for f in fields}
    out["attempts"] = sorted(attempts, key=lambda a: (a.attempted_at, a.attempt_id))
    # The body the next attempt sends, as stored: erased once the order was deleted.
    out["payload"] = json.loads(event.body)
    return out
