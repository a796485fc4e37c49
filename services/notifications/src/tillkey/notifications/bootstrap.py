"""The one composition root: settings in, wired service out."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from tillkey.messaging import InboxDispatcher, QueueTopology
from tillkey.notifications.adapters import tables
from tillkey.notifications.adapters.uow import NotificationsUnitOfWork
from tillkey.notifications.config import Settings
from tillkey.notifications.service_layer.handlers import HANDLERS
from tillkey.platform.db import make_engine, make_session_factory

SERVICE = "notifications"


@dataclass
class Notifications:
    settings: Settings
    engine: object
    session_factory: Callable
    uow_factory: Callable[..., NotificationsUnitOfWork]
    dispatcher: InboxDispatcher
    topology: QueueTopology


def bootstrap(settings: Settings, **overrides) -> Notifications:
    tables.start_mappers()
    engine = overrides.get("engine") or make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    uow_factory = overrides.get("uow_factory") or partial(
        NotificationsUnitOfWork, session_factory, tables.outbox, SERVICE)
    handlers = overrides.get("handlers") or HANDLERS
    dispatcher = InboxDispatcher(uow_factory, tables.inbox, handlers)
    topology = QueueTopology(SERVICE, tuple(dispatcher.event_types))
    return Notifications(settings, engine, session_factory, uow_factory, dispatcher, topology)
