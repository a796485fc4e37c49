"""The one composition root: settings in, wired service out."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Unpack

from sqlalchemy.engine import Engine

from tillkey.messaging import InboxDispatcher, QueueTopology
from tillkey.platform.clock import Clock, SystemClock
from tillkey.platform.db import make_engine, make_session_factory
from tillkey.platform.overrides import CommonOverrides, refuse_unknown
from tillkey.platform.polling import Handoff
from tillkey.platform.urls import check_url
from tillkey.webhooks.adapters import tables
from tillkey.webhooks.adapters.http_sender import HttpSender
from tillkey.webhooks.adapters.uow import WebhooksUnitOfWork
from tillkey.webhooks.config import Settings
from tillkey.webhooks.service_layer.ingest import HANDLERS
from tillkey.webhooks.service_layer.ports import Sender

SERVICE = "webhooks"
# An event about an order we have not seen waits for order.created on these delays (seconds).
# Longer than the library default: order.created may sit behind a backlog or a stopped relay.
WAIT_FOR_ORDER_DELAYS = (1.0, 5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0)


@dataclass
class Webhooks:
    settings: Settings
    engine: Engine
    session_factory: Callable
    uow_factory: Callable[..., WebhooksUnitOfWork]
    dispatcher: InboxDispatcher
    topology: QueueTopology
    clock: Clock
    sender: Sender
    check_url: Callable[[str], None]
    handoff: Handoff


class Overrides(CommonOverrides, total=False):
    """What a test may swap; any other key is refused (tillkey.platform.overrides)."""

    handlers: dict
    service_name: str
    retry_delays: tuple
    sender: Sender
    check_url: Callable[[str], None]


def bootstrap(settings: Settings, **overrides: Unpack[Overrides]) -> Webhooks:
    refuse_unknown(overrides, Overrides)
    tables.start_mappers()
    clock = overrides.get("clock") or SystemClock()
    engine = overrides.get("engine") or make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    handoff = Handoff()
    uow_factory = overrides.get("uow_factory") or partial(
        WebhooksUnitOfWork, session_factory, tables.outbox, SERVICE, clock=clock, handoff=handoff)
    dispatcher = InboxDispatcher(uow_factory, tables.inbox, overrides.get("handlers") or HANDLERS)
    topology = QueueTopology(overrides.get("service_name", SERVICE), tuple(dispatcher.event_types),
                             retry_delays=overrides.get("retry_delays", WAIT_FOR_ORDER_DELAYS))
    sender = overrides.get("sender") or HttpSender(settings.timeout, settings.allow_private_urls)
    url_check = overrides.get("check_url") or partial(check_url, allow_private=settings.allow_private_urls)
    return Webhooks(settings, engine, session_factory, uow_factory, dispatcher, topology, clock, sender, url_check,
                    handoff)
