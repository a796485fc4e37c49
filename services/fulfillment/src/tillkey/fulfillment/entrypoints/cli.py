"""`tillkey.fulfillment api | worker | migrate`."""
from __future__ import annotations

import threading
from collections.abc import Callable

from tillkey.fulfillment.adapters import tables
from tillkey.fulfillment.bootstrap import SERVICE, bootstrap
from tillkey.fulfillment.config import Settings
from tillkey.fulfillment.entrypoints import gauges
from tillkey.fulfillment.entrypoints.license_worker import LicenseCallWorker
from tillkey.messaging import Consumer, OutboxRelay
from tillkey.messaging.dead_letters_erasure import dead_letter_care
from tillkey.platform.runner import migrations_home, service_main

MIGRATIONS_HOME = migrations_home("tillkey.fulfillment")  # alembic.ini + migrations/, package data


def build_workers(settings: Settings, **overrides) -> dict:
    service = bootstrap(settings, **overrides)
    license_calls = LicenseCallWorker(service.uow_factory, service.license_client, service.clock,
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


def main() -> None:
    service_main(SERVICE, settings_from_env=Settings.from_env, port_of=lambda s: s.port,
                 app_spec="tillkey.fulfillment.entrypoints.app:create_app_from_env()",
                 migrations_home=MIGRATIONS_HOME, build_workers=build_workers,
                 database_url_of=lambda s: s.database_url)
