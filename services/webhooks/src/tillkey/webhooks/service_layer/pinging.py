"""The test event: a signed `ping` sent to one endpoint now, through the same deliveries, attempts and
log as every webhook, so a merchant sees whether its endpoint takes and verifies our requests.

It is about no order, so it has no sequence number (`sequence: null`, docs/architecture.md §7.4
numbers an order's events only) and nothing of a customer to erase. Its body is documented in
docs/integration.md, "The ping event".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tillkey.platform.clock import isoformat
from tillkey.webhooks.domain import payload
from tillkey.webhooks.domain.model import Delivery, WebhookEvent
from tillkey.webhooks.service_layer.endpoints import owned_endpoint
from tillkey.webhooks.service_layer.errors import Conflict
from tillkey.webhooks.service_layer.ports import Deps, UnitOfWork
from tillkey.webhooks.service_layer.views import delivery_view

PING = "ping"


@dataclass(frozen=True)
class Ping:
    merchant_id: str
    endpoint_id: str


def ping(cmd: Ping, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    """Queue the ping for the delivery worker (it sends due deliveries within a poll interval)."""
    endpoint = owned_endpoint(uow, cmd.merchant_id, cmd.endpoint_id)
    if not endpoint.enabled:
        raise Conflict("The endpoint is disabled; re-enable it (PATCH enabled=true) first.")
    now = deps.clock.now()
    event_id = deps.new_id("evt")
    created_at = isoformat(now)
    if created_at is None:  # only for no time at all; the clock always gives one
        raise RuntimeError("the clock gave no time")
    body = payload.body(event_id, PING, created_at, None, {"endpoint_id": endpoint.endpoint_id, "url": endpoint.url})
    event = WebhookEvent(event_id=event_id, merchant_id=cmd.merchant_id, type=PING, sequence=None, body=body,
                         created_at=now, order_id=None)
    delivery = Delivery(delivery_id=deps.new_id("whd"), endpoint_id=endpoint.endpoint_id, merchant_id=cmd.merchant_id,
                        event_id=event_id, event_type=PING, created_at=now, next_attempt_at=now)
    uow.events.add(event)
    uow.deliveries.add(delivery)
    uow.commit()
    return delivery_view(delivery, [], event)
