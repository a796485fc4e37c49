"""`tillkey-orders api | worker | migrate`."""
from __future__ import annotations

from tillkey.messaging import Consumer, OutboxRelay
from tillkey.messaging.dead_letters_erasure import dead_letter_care
from tillkey.orders.adapters import tables
from tillkey.orders.bootstrap import SERVICE, bootstrap
from tillkey.orders.config import Settings
from tillkey.orders.entrypoints.scheduler import LifecycleScheduler
from tillkey.platform.gauges import schedule_lag
from tillkey.platform.runner import migrations_home, service_main

MIGRATIONS_HOME = migrations_home("tillkey.orders")  # alembic.ini + migrations/, package data


def build_workers(settings: Settings, **overrides) -> dict:
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


def main() -> None:
    service_main(SERVICE, settings_from_env=Settings.from_env, port_of=lambda s: s.port,
                 app_spec="tillkey.orders.entrypoints.app:create_app_from_env()",
                 migrations_home=MIGRATIONS_HOME, build_workers=build_workers,
                 database_url_of=lambda s: s.database_url)
