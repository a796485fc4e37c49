"""Use cases for a merchant's webhook endpoints."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tillkey.contracts.signing import new_secret
from tillkey.platform.ids import new_id
from tillkey.webhooks.domain.model import ALL_EVENTS, Endpoint
from tillkey.webhooks.service_layer.errors import Invalid, NotFound

# Raises ValueError with a message fit for the merchant (the SSRF guard, configured in bootstrap).
UrlCheck = Callable[[str], None]


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


def _normalise_events(events: list[str]) -> list[str]:
    # "*" already means everything; keep the list short and free of repeats.
    return [ALL_EVENTS] if ALL_EVENTS in events else list(dict.fromkeys(events))


def _check(url: str, check_url: UrlCheck) -> None:
    try:
        check_url(url)
    except ValueError as exc:
        raise Invalid("url", str(exc)) from None


def create_endpoint(cmd: CreateEndpoint, uow, check_url: UrlCheck) -> Endpoint:
    _check(cmd.url, check_url)
    with uow:
        endpoint = Endpoint(endpoint_id=new_id("ep"), merchant_id=cmd.merchant_id, url=cmd.url,
                            events=_normalise_events(cmd.events), secret=new_secret(),
                            created_at=uow.clock.now(), description=cmd.description)
        uow.add(endpoint)
        uow.commit()
        return endpoint


def update_endpoint(cmd: UpdateEndpoint, uow, check_url: UrlCheck) -> Endpoint:
    if cmd.url is not None:
        _check(cmd.url, check_url)
    with uow:
        endpoint = owned_endpoint(uow, cmd.merchant_id, cmd.endpoint_id)
        endpoint.change(url=cmd.url, events=_normalise_events(cmd.events) if cmd.events is not None else None,
                        description=cmd.description, enabled=cmd.enabled)
        if not endpoint.enabled:
            uow.abandon_pending(endpoint.endpoint_id)
        uow.commit()
        return endpoint


def delete_endpoint(merchant_id: str, endpoint_id: str, uow) -> None:
    with uow:
        endpoint = owned_endpoint(uow, merchant_id, endpoint_id)
        endpoint.delete(uow.clock.now())
        uow.abandon_pending(endpoint_id)
        uow.commit()


def rotate_secret(merchant_id: str, endpoint_id: str, uow) -> Endpoint:
    with uow:
        endpoint = owned_endpoint(uow, merchant_id, endpoint_id)
        endpoint.rotate_secret(new_secret(), uow.clock.now())
        uow.commit()
        return endpoint


def list_endpoints(merchant_id: str, limit: int, cursor: str | None, uow):
    with uow:
        return uow.endpoints_page(merchant_id, limit, cursor)


def owned_endpoint(uow, merchant_id: str, endpoint_id: str) -> Endpoint:
    endpoint = uow.endpoint(merchant_id, endpoint_id, lock=True)
    if endpoint is None:
        raise NotFound("webhook endpoint")
    return endpoint
