"""The one table of use cases: command or query type → handler, and event type → inbox handlers.

Every handler is `handle(command_or_event, uow, deps)`; bootstrap runs a command in its own unit of
work, and binds `deps` to the event handlers before the dispatcher calls them as (event, uow).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from tillkey.contracts import PUBLIC_EVENT_TYPES, Envelope
from tillkey.messaging.handling import declared
from tillkey.webhooks.service_layer import deliveries, delivering, endpoints, pinging, views
from tillkey.webhooks.service_layer.erasure import erase_order
from tillkey.webhooks.service_layer.ingest import take_event
from tillkey.webhooks.service_layer.ports import Deps, UnitOfWork

HANDLERS: dict[type, Callable[[Any, UnitOfWork, Deps], Any]] = {
    endpoints.CreateEndpoint: endpoints.create_endpoint,
    endpoints.UpdateEndpoint: endpoints.update_endpoint,
    endpoints.EnableEndpoint: endpoints.enable_endpoint,
    endpoints.DeleteEndpoint: endpoints.delete_endpoint,
    endpoints.RotateSecret: endpoints.rotate_secret,
    pinging.Ping: pinging.ping,
    views.ListEndpoints: views.list_endpoints,
    views.ListDisabledEndpoints: views.list_disabled_endpoints,
    views.ListDeliveries: views.list_deliveries,
    deliveries.Redeliver: deliveries.redeliver,
    # The delivery worker's (entrypoints/delivery_worker.py).
    delivering.ClaimDueDeliveries: delivering.claim,
    delivering.RecordAttempts: delivering.record_attempts,
}


def deny_revoked_api_key(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    """`merchant.api_key_revoked` → this service's own denylist (tillkey.platform.revoked_keys)."""
    uow.revoked_api_keys.deny(event.data["merchant_id"], event.data["key_id"],
                              datetime.fromisoformat(event.occurred_at))


# The names are what the inbox records: never change one (docs/architecture.md 7.2).
EVENT_HANDLERS = {event_type: [declared("take_event", take_event)] for event_type in PUBLIC_EVENT_TYPES}
# Erase first, in its own transaction: an order.deleted waiting for its order.created (RetryLater in
# take_event) has already erased what we hold and left its tombstone.
EVENT_HANDLERS["order.deleted"] = [declared("erase_order", erase_order), declared("take_event", take_event)]
# Not a public event: its own denylist of revoked API keys (docs/architecture.md).
EVENT_HANDLERS["merchant.api_key_revoked"] = [declared("deny_revoked_api_key", deny_revoked_api_key)]
