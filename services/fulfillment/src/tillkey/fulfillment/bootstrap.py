"""The one composition root: settings in, wired service out (and the worker's loops, wired)."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Unpack

from tillkey.fulfillment.adapters import gauges, tables
from tillkey.fulfillment.adapters.license_crypto import LicenseCrypto
from tillkey.fulfillment.adapters.license_service import LicenseServiceClient
from tillkey.fulfillment.adapters.license_worker import LicenseCallWorker
from tillkey.fulfillment.adapters.orders_directory import OrdersProductDirectory
from tillkey.fulfillment.adapters.uow import FulfillmentUnitOfWork
from tillkey.fulfillment.config import Settings
from tillkey.fulfillment.service_layer.handlers import EVENT_HANDLERS, HANDLERS
from tillkey.fulfillment.service_layer.ports import Deps, ProductDirectory
from tillkey.messaging import Consumer, InboxDispatcher, OutboxRelay, QueueTopology
from tillkey.messaging.dead_letters_erasure import dead_letter_care
from tillkey.messaging.handling import bind_deps
from tillkey.platform.clock import SystemClock
from tillkey.platform.db import make_engine, make_session_factory
from tillkey.platform.ids import new_id
from tillkey.platform.overrides import CommonOverrides, refuse_unknown
from tillkey.platform.urls import check_url

SERVICE = "fulfillment"


@dataclass
class Fulfillment:
    settings: Settings
    engine: object
    session_factory: Callable
    uow_factory: Callable[..., FulfillmentUnitOfWork]
    deps: Deps
    handlers: dict
    dispatcher: InboxDispatcher     # the consumer's: event type → handlers, each once (inbox)
    topology: QueueTopology
    products: ProductDirectory      # orders, asked about products not known here yet
    license_client: Any             # calls merchants' license web services
    # Set by a unit of work that scheduled a web-service call; None when a test brought its own
    # uow_factory (then every batch wakes the call worker, as one that cannot tell must).
    calls_scheduled: threading.Event | None = None

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
    products: ProductDirectory
    license_client: object


def bootstrap(settings: Settings, **overrides: Unpack[Overrides]) -> Fulfillment:
    refuse_unknown(overrides, Overrides)
    tables.start_mappers()
    engine = overrides.get("engine") or make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    calls_scheduled = None if "uow_factory" in overrides else threading.Event()
    uow_factory = overrides.get("uow_factory") or partial(
        FulfillmentUnitOfWork, session_factory, tables.outbox, SERVICE, calls_scheduled=calls_scheduled)
    deps = Deps(clock=overrides.get("clock") or SystemClock(), new_id=overrides.get("new_id") or new_id,
                crypto=LicenseCrypto(settings.platform_secret),
                check_url=partial(check_url, allow_private=settings.allow_private_urls))
    event_handlers = bind_deps(overrides.get("event_handlers") or EVENT_HANDLERS, deps)
    dispatcher = InboxDispatcher(uow_factory, tables.inbox, event_handlers)
    topology = QueueTopology(SERVICE, tuple(dispatcher.event_types))
    products = overrides.get("products") or OrdersProductDirectory(settings.orders_internal_url)
    license_client = overrides.get("license_client") or LicenseServiceClient(
        settings.license_web_service_timeout, settings.allow_private_urls)
    return Fulfillment(settings, engine, session_factory, uow_factory, deps, overrides.get("handlers") or HANDLERS,
                       dispatcher, topology, products, license_client, calls_scheduled)


def build_workers(settings: Settings, **overrides: Unpack[Overrides]) -> dict:
    """The worker's loops, each on its own thread: consumer (orders' events), relay (publishes the
    outbox), license_calls (merchants' license web services), and the dead-letter care."""
    service = bootstrap(settings, **overrides)
    license_calls = LicenseCallWorker(service.handle, service.license_client, service.deps.clock,
                                      schedule=settings.license_web_service_retry_schedule,
                                      timeout=settings.license_web_service_timeout)
    relay = OutboxRelay(settings.amqp_url, service.session_factory, tables.outbox, SERVICE,
                        retention=settings.outbox_retention)
    relay.metrics_collectors.extend(gauges.collectors(service.session_factory))  # read when scraped
    return {
        # A committed batch that scheduled calls to a merchant's web service: make them now.
        "consumer": Consumer(settings.amqp_url, service.topology, service.dispatcher,
                             after_batch=wake_on_scheduled_calls(service.calls_scheduled, license_calls)),
        "relay": relay,
        "license_calls": license_calls,
        **dead_letter_care(settings.amqp_url, service.topology, service.dispatcher),
    }


def wake_on_scheduled_calls(calls_scheduled: threading.Event | None, worker: LicenseCallWorker) -> Callable[[], None]:
    if calls_scheduled is None:
        return worker.wake

    def after_batch() -> None:
        if calls_scheduled.is_set():
            calls_scheduled.clear()  # before the wake: a call scheduled meanwhile rings again
            worker.wake()
    return after_batch
