"""The one composition root: settings in, wired service out."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Unpack

from tillkey.messaging import Consumer, InboxDispatcher, OutboxRelay, QueueTopology
from tillkey.messaging.dead_letters_erasure import dead_letter_care
from tillkey.messaging.handling import bind_deps
from tillkey.orders.adapters import tables
from tillkey.orders.adapters.scheduler import LifecycleScheduler
from tillkey.orders.adapters.uow import OrdersUnitOfWork
from tillkey.orders.config import Settings
from tillkey.orders.service_layer.handlers import EVENT_HANDLERS, HANDLERS
from tillkey.orders.service_layer.ports import Deps
from tillkey.platform.clock import SystemClock
from tillkey.platform.db import make_engine, make_session_factory
from tillkey.platform.gauges import schedule_lag
from tillkey.platform.ids import new_id
from tillkey.platform.overrides import CommonOverrides, refuse_unknown

SERVICE = "orders"


@dataclass
class Orders:
    settings: Settings
    engine: object
    session_factory: Callable
    uow_factory: Callable[..., Any]
    deps: Deps
    handlers: dict
    dispatcher: InboxDispatcher     # the consumer's: event type → handlers, each once (inbox)
    topology: QueueTopology

    def handle(self, command) -> Any:
        """Run one command or query in its own unit of work (committed by the handler, if it writes)."""
        handler = self.handlers[type(command)]
        with self.uow_factory() as uow:
            return handler(command, uow, self.deps)


class Overrides(CommonOverrides, total=False):
    """What a test may swap; any other key is refused (tillkey.platform.overrides)."""

    new_id: Callable[[str], str]
    handlers: dict
    event_handlers: dict


def bootstrap(settings: Settings, **overrides: Unpack[Overrides]) -> Orders:
    refuse_unknown(overrides, Overrides)
    tables.start_mappers()
    engine = overrides.get("engine") or make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    uow_factory = overrides.get("uow_factory") or partial(OrdersUnitOfWork, session_factory, tables.outbox, SERVICE)
    deps = Deps(clock=overrides.get("clock") or SystemClock(), new_id=overrides.get("new_id") or new_id,
                platform_secret=settings.platform_secret, orders_public_url=settings.orders_public_url,
                payments_public_url=settings.payments_public_url)
    event_handlers = bind_deps(overrides.get("event_handlers") or EVENT_HANDLERS, deps)
    dispatcher = InboxDispatcher(uow_factory, tables.inbox, event_handlers)
    topology = QueueTopology(SERVICE, tuple(dispatcher.event_types))
    return Orders(settings, engine, session_factory, uow_factory, deps, overrides.get("handlers") or HANDLERS,
                  dispatcher, topology)


def build_workers(settings: Settings, **overrides: Unpack[Overrides]) -> dict[str, object]:
    """The worker's loops, each on its own thread: consumer (payments' and fulfillment's events),
    relay (publishes the outbox), scheduler (reminders and expiry of unpaid orders)."""
    service = bootstrap(settings, **overrides)
    consumer = Consumer(settings.amqp_url, service.topology, service.dispatcher)
    relay = OutboxRelay(settings.amqp_url, service.session_factory, tables.outbox, SERVICE,
                        retention=settings.outbox_retention)
    scheduler = LifecycleScheduler(service, interval=settings.scheduler_interval,
                                   reminder_after=settings.unpaid_reminder_after, ttl=settings.unpaid_order_ttl)
    loops: dict[str, object] = {"consumer": consumer, "relay": relay, "scheduler": scheduler}
    relay.metrics_collectors.append(schedule_lag(SERVICE, {"lifecycle": scheduler}))
    loops.update(dead_letter_care(settings.amqp_url, service.topology, service.dispatcher))
    return loops
