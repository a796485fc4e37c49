"""The one composition root: settings in, wired service out (and the worker process's loops)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Unpack

from sqlalchemy.engine import Engine

from tillkey.contracts.signing import new_secret
from tillkey.messaging import Consumer, InboxDispatcher, InboxHandler, OutboxRelay, QueueTopology
from tillkey.messaging.dead_letters_erasure import dead_letter_care
from tillkey.messaging.handling import bind_deps
from tillkey.platform.clock import SystemClock
from tillkey.platform.db import make_engine, make_session_factory
from tillkey.platform.ids import new_id
from tillkey.platform.overrides import CommonOverrides, refuse_unknown
from tillkey.platform.polling import Handoff
from tillkey.platform.urls import check_url
from tillkey.webhooks.adapters import gauges, tables
from tillkey.webhooks.adapters.delivery_worker import DeliveryWorker
from tillkey.webhooks.adapters.http_sender import HttpSender
from tillkey.webhooks.adapters.uow import WebhooksUnitOfWork
from tillkey.webhooks.config import Settings
from tillkey.webhooks.service_layer.handlers import EVENT_HANDLERS, HANDLERS
from tillkey.webhooks.service_layer.ports import Clock, Deps, Sender

SERVICE = "webhooks"
# An event about an order we have not seen waits for order.created on these delays (seconds).
# Longer than the library default: order.created may sit behind a backlog or a stopped relay.
WAIT_FOR_ORDER_DELAYS = (1.0, 5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0)


@dataclass
class Webhooks:
    settings: Settings
    engine: Engine
    session_factory: Callable[..., Any]
    uow_factory: Callable[..., WebhooksUnitOfWork]
    deps: Deps
    handlers: dict[type, Callable[..., Any]]
    dispatcher: InboxDispatcher     # the consumer's: event type → handlers, each once (inbox)
    topology: QueueTopology
    sender: Sender
    handoff: Handoff

    def handle(self, command: Any) -> Any:
        """Run one command or query in its own unit of work (committed by the handler, if it writes)."""
        handler = self.handlers[type(command)]
        with self.uow_factory() as uow:
            return handler(command, uow, self.deps)

    @property
    def clock(self) -> Clock:
        return self.deps.clock


class Overrides(CommonOverrides, total=False):
    """What a test may swap; any other key is refused (tillkey.platform.overrides)."""

    new_id: Callable[[str], str]
    handlers: dict[type, Callable[..., Any]]
    event_handlers: dict[str, list[InboxHandler]]
    service_name: str
    retry_delays: tuple[float, ...]
    sender: Sender
    check_url: Callable[[str], None]


def bootstrap(settings: Settings, **overrides: Unpack[Overrides]) -> Webhooks:
    refuse_unknown(overrides, Overrides)
    tables.start_mappers()
    engine = overrides.get("engine") or make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    handoff = Handoff()
    uow_factory = overrides.get("uow_factory") or partial(
        WebhooksUnitOfWork, session_factory, tables.outbox, SERVICE, handoff=handoff)
    deps = Deps(clock=overrides.get("clock") or SystemClock(), new_id=overrides.get("new_id") or new_id,
                new_secret=new_secret,
                check_url=overrides.get("check_url") or partial(check_url, allow_private=settings.allow_private_urls))
    event_handlers = bind_deps(overrides.get("event_handlers") or EVENT_HANDLERS, deps)
    dispatcher = InboxDispatcher(uow_factory, tables.inbox, event_handlers)
    topology = QueueTopology(overrides.get("service_name", SERVICE), tuple(dispatcher.event_types),
                             retry_delays=overrides.get("retry_delays", WAIT_FOR_ORDER_DELAYS))
    sender = overrides.get("sender") or HttpSender(settings.timeout, settings.allow_private_urls)
    return Webhooks(settings, engine, session_factory, uow_factory, deps, overrides.get("handlers") or HANDLERS,
                    dispatcher, topology, sender, handoff)


def build_workers(settings: Settings, **overrides: Unpack[Overrides]) -> dict[str, Any]:
    """The worker process's loops: the consumer, the outbox relay, the delivery worker and the
    dead-letter care (`tillkey-webhooks worker`, entrypoints/cli.py)."""
    service = bootstrap(settings, **overrides)
    delivery = DeliveryWorker(service.handle, service.sender, service.clock,
                              schedule=settings.retry_schedule, timeout=settings.timeout,
                              threads=settings.senders, per_endpoint=settings.per_endpoint)
    service.handoff.connect(delivery.take, delivery.lease)  # the consumer's new deliveries skip the claim
    relay = OutboxRelay(settings.amqp_url, service.session_factory, tables.outbox, SERVICE,
                        retention=settings.outbox_retention)
    relay.metrics_collectors.extend(gauges.collectors(service.session_factory))  # read when scraped
    return {
        # The consumer hands the deliveries it creates to the worker (service.handoff): no wake-up needed.
        "consumer": Consumer(settings.amqp_url, service.topology, service.dispatcher),
        "relay": relay,
        "delivery": delivery,
        **dead_letter_care(settings.amqp_url, service.topology, service.dispatcher),
    }
