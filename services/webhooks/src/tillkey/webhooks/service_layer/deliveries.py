"""Use cases for the merchant's delivery log: redeliver (the log itself is a read model: views.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tillkey.webhooks.service_layer.errors import Conflict, NotFound
from tillkey.webhooks.service_layer.ports import Deps, UnitOfWork
from tillkey.webhooks.service_layer.views import delivery_view


@dataclass(frozen=True)
class Redeliver:
    merchant_id: str
    delivery_id: str


def redeliver(cmd: Redeliver, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    """One more attempt of the same delivery (same webhook-id), sent by the worker at once."""
    delivery = uow.deliveries.get(cmd.delivery_id, merchant_id=cmd.merchant_id, lock=True)
    if delivery is None:
        raise NotFound("webhook delivery")
    endpoint = uow.endpoints.by_id(delivery.endpoint_id)
    if endpoint is None or endpoint.deleted_at is not None:
        raise Conflict("The endpoint of this delivery was deleted.")
    if not endpoint.enabled:
        raise Conflict("The endpoint is disabled; re-enable it (PATCH enabled=true) first.")
    delivery.request_redelivery(deps.clock.now())  # Conflict when one is already waiting or being sent
    uow.commit()
    attempts = uow.deliveries.attempts_of([delivery.delivery_id])[delivery.delivery_id]
    event = uow.events.get(delivery.event_id)
    if event is None:  # a delivery's event is never deleted (foreign key)
        raise RuntimeError(f"the event of delivery {delivery.delivery_id} is missing")
    return delivery_view(delivery, attempts, event)
