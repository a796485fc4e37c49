"""The one composition root: settings in, wired service out."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Unpack

from tillkey.fulfillment.adapters import tables
from tillkey.fulfillment.adapters.license_crypto import LicenseCrypto
from tillkey.fulfillment.adapters.license_service import LicenseServiceClient
from tillkey.fulfillment.adapters.orders_directory import OrdersProductDirectory
from tillkey.fulfillment.adapters.uow import FulfillmentUnitOfWork
from tillkey.fulfillment.config import Settings
from tillkey.fulfillment.service_layer.handlers import HANDLERS
from tillkey.messaging import InboxDispatcher, QueueTopology
from tillkey.platform.clock import Clock, SystemClock
from tillkey.platform.db import make_engine, make_session_factory
from tillkey.platform.overrides import CommonOverrides, refuse_unknown

SERVICE = "fulfillment"


@dataclass
class Fulfillment:
    settings: Settings
    engine: object
    session_factory: Callable
    uow_factory: Callable[..., FulfillmentUnitOfWork]
    dispatcher: InboxDispatcher
    topology: QueueTopology
    clock: Clock
    products: object        # service_layer.merchant.ProductDirectory: orders, asked about unknown products
    license_client: object  # calls merchants' license web services
    # Set by a unit of work that scheduled a web-service call; None when a test brought its own
    # uow_factory (then every batch wakes the call worker, as one that cannot tell must).
    calls_scheduled: threading.Event | None = None


class Overrides(CommonOverrides, total=False):
    """What a test may swap; any other key is refused (tillkey.platform.overrides)."""

    handlers: dict
    products: object
    license_client: object


def bootstrap(settings: Settings, **overrides: Unpack[Overrides]) -> Fulfillment:
    refuse_unknown(overrides, Overrides)
    tables.start_mappers()
    engine = overrides.get("engine") or make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    clock = overrides.get("clock") or SystemClock()
    crypto = LicenseCrypto(settings.platform_secret)
    calls_scheduled = None if "uow_factory" in overrides else threading.Event()
    uow_factory = overrides.get("uow_factory") or partial(
        FulfillmentUnitOfWork, session_factory, tables.outbox, SERVICE, clock=clock, crypto=crypto,
        calls_scheduled=calls_scheduled)
    handlers = overrides.get("handlers") or HANDLERS
    dispatcher = InboxDispatcher(uow_factory, tables.inbox, handlers)
    topology = QueueTopology(SERVICE, tuple(dispatcher.event_types))
    products = overrides.get("products") or OrdersProductDirectory(settings.orders_internal_url)
    license_client = overrides.get("license_client") or LicenseServiceClient(
        settings.license_web_service_timeout, settings.allow_private_urls)
    return Fulfillment(settings, engine, session_factory, uow_factory, dispatcher, topology, clock, products,
                       license_client, calls_scheduled)
