"""`tillkey-webhooks api | worker | migrate`."""
from __future__ import annotations

from tillkey.messaging import Consumer, OutboxRelay
from tillkey.messaging.dead_letters_erasure import dead_letter_care
from tillkey.platform.runner import migrations_home, service_main
from tillkey.webhooks.adapters import tables
from tillkey.webhooks.bootstrap import SERVICE, bootstrap
from tillkey.webhooks.config import Settings
from tillkey.webhooks.entrypoints import gauges
from tillkey.webhooks.entrypoints.delivery_worker import DeliveryWorker

MIGRATIONS_HOME = migrations_home("tillkey.webhooks")  # alembic.ini + migrations/, package data


def build_workers(settings: Settings, **overrides) -> dict:
    service = bootstrap(settings, **overrides)
    delivery = DeliveryWorker(service.uow_factory, service.sender, service.clock,
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


def main() -> None:
    service_main(SERVICE, settings_from_env=Settings.from_env, port_of=lambda s: s.port,
                 app_spec="tillkey.webhooks.entrypoints.app:create_app_from_env()",
                 migrations_home=MIGRATIONS_HOME, build_workers=build_workers,
                 database_url_of=lambda s: s.database_url)
