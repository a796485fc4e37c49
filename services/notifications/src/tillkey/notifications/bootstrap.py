"""The one composition root: settings in, wired service out."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Unpack

from tillkey.messaging import InboxDispatcher, QueueTopology
from tillkey.notifications.adapters import tables
from tillkey.notifications.adapters.rendering import JinjaRenderer
from tillkey.notifications.adapters.smtp import SmtpMailer
from tillkey.notifications.adapters.uow import NotificationsUnitOfWork
from tillkey.notifications.config import Settings
from tillkey.notifications.service_layer.composing import Composer
from tillkey.notifications.service_layer.handlers import build_handlers
from tillkey.notifications.service_layer.ports import Mailer, Renderer
from tillkey.platform.clock import Clock, SystemClock
from tillkey.platform.db import make_engine, make_session_factory
from tillkey.platform.overrides import CommonOverrides, refuse_unknown
from tillkey.platform.polling import Handoff

SERVICE = "notifications"
# An email about an order or merchant not seen yet waits for it on these delays (seconds).
# Longer than the library default: order.created may sit behind a backlog or a stopped relay.
WAIT_FOR_ORDER_DELAYS = (1.0, 5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0)


@dataclass
class Notifications:
    settings: Settings
    engine: object
    session_factory: Callable
    uow_factory: Callable[..., NotificationsUnitOfWork]
    dispatcher: InboxDispatcher
    topology: QueueTopology
    clock: Clock
    composer: Composer
    mailer: Mailer
    handoff: Handoff


class Overrides(CommonOverrides, total=False):
    """What a test may swap; any other key is refused (tillkey.platform.overrides)."""

    renderer: Renderer
    handlers: dict
    retry_delays: tuple
    mailer: Mailer


def bootstrap(settings: Settings, **overrides: Unpack[Overrides]) -> Notifications:
    refuse_unknown(overrides, Overrides)
    tables.start_mappers()
    clock = overrides.get("clock") or SystemClock()
    engine = overrides.get("engine") or make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    handoff = Handoff()
    uow_factory = overrides.get("uow_factory") or partial(
        NotificationsUnitOfWork, session_factory, tables.outbox, SERVICE, clock=clock, handoff=handoff)
    composer = Composer(overrides.get("renderer") or JinjaRenderer(),
                        orders_public_url=settings.orders_public_url,
                        payments_public_url=settings.payments_public_url,
                        platform_secret=settings.platform_secret)
    handlers = overrides.get("handlers") or build_handlers(composer)
    dispatcher = InboxDispatcher(uow_factory, tables.inbox, handlers)
    topology = QueueTopology(SERVICE, tuple(dispatcher.event_types),
                             retry_delays=overrides.get("retry_delays", WAIT_FOR_ORDER_DELAYS))
    mailer = overrides.get("mailer") or SmtpMailer(
        settings.smtp_host, settings.smtp_port, settings.smtp_from, starttls=settings.smtp_starttls,
        user=settings.smtp_user, password=settings.smtp_password, timeout=settings.smtp_timeout)
    return Notifications(settings, engine, session_factory, uow_factory, dispatcher, topology, clock,
                         composer, mailer, handoff)
