"""Read models: how endpoints and deliveries are shown (the API's answers), and the queries of the
API's lists. One source, so a list and the answer of a change cannot drift apart."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tillkey.webhooks.domain.model import Attempt, Delivery, Endpoint, WebhookEvent
from tillkey.webhooks.service_layer.errors import NotFound
from tillkey.webhooks.service_layer.ports import Deps, UnitOfWork

_ENDPOINT_FIELDS = ("endpoint_id", "url", "events", "description", "enabled", "disabled_reason", "created_at")
_DELIVERY_FIELDS = ("delivery_id", "endpoint_id", "event_id", "event_type", "status", "next_attempt_at",
                    "last_attempt_at", "created_at")


def endpoint_view(endpoint: Endpoint, *, with_secret: bool = False) -> dict[str, Any]:
    """Never the secret, but in the answers that create or rotate it."""
    out = {f: getattr(endpoint, f) for f in _ENDPOINT_FIELDS}
    if with_secret:
        out["secret"] = endpoint.secret
    return out


def delivery_view(delivery: Delivery, attempts: list[Attempt], event: WebhookEvent) -> dict[str, Any]:
    out: dict[str, Any] = {f: getattr(delivery, f) for f in _DELIVERY_FIELDS}
    out["attempts"] = sorted(attempts, key=lambda a: (a.attempted_at, a.attempt_id))
    # The body the next attempt sends, as stored: erased once the order was deleted.
    out["payload"] = json.loads(event.body)
    return out


@dataclass(frozen=True)
class ListEndpoints:
    merchant_id: str
    limit: int = 50
    cursor: str | None = None


def list_endpoints(q: ListEndpoints, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    """The merchant's endpoints, newest first (never their secrets)."""
    rows, next_cursor = uow.endpoints.page(q.merchant_id, q.limit, q.cursor)
    return {"data": [endpoint_view(e) for e in rows], "next_cursor": next_cursor}


@dataclass(frozen=True)
class ListDisabledEndpoints:
    """An operator's (tillkey-admin webhook-endpoints disabled): every merchant's, in id order."""


def list_disabled_endpoints(q: ListDisabledEndpoints, uow: UnitOfWork, deps: Deps) -> list[dict[str, Any]]:
    return [{"endpoint_id": e.endpoint_id, "merchant_id": e.merchant_id, "disabled_reason": e.disabled_reason}
            for e in uow.endpoints.disabled()]


@dataclass(frozen=True)
class ListDeliveries:
    merchant_id: str
    endpoint_id: str | None = None
    event_id: str | None = None
    status: str | None = None
    order_id: str | None = None
    limit: int = 50
    cursor: str | None = None


def list_deliveries(q: ListDeliveries, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    """The merchant's deliveries, newest first, each with its attempts and payload."""
    if q.order_id is not None:
        # Another merchant's order, or one whose order.created has not been taken in yet: not
        # found, as every service answers about an order it may not show (docs/architecture.md §5).
        if uow.order_records.owner(q.order_id) != q.merchant_id:
            raise NotFound("order")
    rows, next_cursor = uow.deliveries.page(q.merchant_id, endpoint_id=q.endpoint_id, event_id=q.event_id,
                                            status=q.status, limit=q.limit, cursor=q.cursor, order_id=q.order_id)
    attempts = uow.deliveries.attempts_of([d.delivery_id for d in rows])
    events = uow.events.by_ids([d.event_id for d in rows])
    return {"data": [delivery_view(d, attempts[d.delivery_id], events[d.event_id]) for d in rows],
            "next_cursor": next_cursor}
