"""Use cases for a merchant's webhook endpoints (their list is a read model: views.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tillkey.webhooks.domain.model import ALL_EVENTS, Endpoint
from tillkey.webhooks.service_layer.errors import Invalid, NotFound
from tillkey.webhooks.service_layer.ports import Deps, UnitOfWork, UrlCheck
from tillkey.webhooks.service_layer.views import endpoint_view


@dataclass(frozen=True)
class CreateEndpoint:
    merchant_id: str
    url: str
    events: list[str]
    description: str | None = None


@dataclass(frozen=True)
class UpdateEndpoint:
    merchant_id: str
    endpoint_id: str
    url: str | None = None
    events: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


@dataclass(frozen=True)
class EnableEndpoint:
    """An operator's (tillkey-admin webhook-endpoints enable): re-enable a disabled endpoint once its
    merchant fixed it, as the merchant's PATCH enabled=true does."""

    endpoint_id: str


@dataclass(frozen=True)
class DeleteEndpoint:
    merchant_id: str
    endpoint_id: str


@dataclass(frozen=True)
class RotateSecret:
    merchant_id: str
    endpoint_id: str


def _normalise_events(events: list[str]) -> list[str]:
    # "*" already means everything; keep the list short and free of repeats.
    return [ALL_EVENTS] if ALL_EVENTS in events else list(dict.fromkeys(events))


def _check(url: str, check_url: UrlCheck) -> None:
    try:
        check_url(url)
    except ValueError as exc:
        raise Invalid("url", str(exc)) from None


def create_endpoint(cmd: CreateEndpoint, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    """The answer holds its signing secret (shown only here and on rotation)."""
    _check(cmd.url, deps.check_url)
    endpoint = Endpoint(endpoint_id=deps.new_id("ep"), merchant_id=cmd.merchant_id, url=cmd.url,
                        events=_normalise_events(cmd.events), secret=deps.new_secret(),
                        created_at=deps.clock.now(), description=cmd.description)
    uow.endpoints.add(endpoint)
    uow.commit()
    return endpoint_view(endpoint, with_secret=True)


def update_endpoint(cmd: UpdateEndpoint, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    if cmd.url is not None:
        _check(cmd.url, deps.check_url)
    endpoint = owned_endpoint(uow, cmd.merchant_id, cmd.endpoint_id)
    endpoint.change(url=cmd.url, events=_normalise_events(cmd.events) if cmd.events is not None else None,
                    description=cmd.description, enabled=cmd.enabled)
    if not endpoint.enabled:
        uow.deliveries.abandon_pending(endpoint.endpoint_id)
    uow.commit()
    return endpoint_view(endpoint)


def enable_endpoint(cmd: EnableEndpoint, uow: UnitOfWork, deps: Deps) -> dict[str, Any] | None:
    """None when no endpoint has this id; a deleted one is not found (NotFound), as for its merchant."""
    endpoint = uow.endpoints.by_id(cmd.endpoint_id, lock=True)
    if endpoint is None:
        return None
    return update_endpoint(UpdateEndpoint(endpoint.merchant_id, cmd.endpoint_id, enabled=True), uow, deps)


def delete_endpoint(cmd: DeleteEndpoint, uow: UnitOfWork, deps: Deps) -> None:
    endpoint = owned_endpoint(uow, cmd.merchant_id, cmd.endpoint_id)
    endpoint.delete(deps.clock.now())
    uow.deliveries.abandon_pending(cmd.endpoint_id)
    uow.commit()


def rotate_secret(cmd: RotateSecret, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    """A new secret; for 24 h webhooks are signed with both the old and the new one."""
    endpoint = owned_endpoint(uow, cmd.merchant_id, cmd.endpoint_id)
    endpoint.rotate_secret(deps.new_secret(), deps.clock.now())
    uow.commit()
    return {"endpoint_id": endpoint.endpoint_id, "secret": endpoint.secret}


def owned_endpoint(uow: UnitOfWork, merchant_id: str, endpoint_id: str) -> Endpoint:
    """The merchant's live endpoint, locked until commit (404 for another merchant's or a deleted one)."""
    endpoint = uow.endpoints.get(merchant_id, endpoint_id, lock=True)
    if endpoint is None:
        raise NotFound("webhook endpoint")
    return endpoint
