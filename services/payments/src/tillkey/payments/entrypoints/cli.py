"""`tillkey-payments api | worker | migrate`."""
from __future__ import annotations

from tillkey.messaging import Consumer, OutboxRelay
from tillkey.messaging.dead_letters_erasure import dead_letter_care
from tillkey.payments.adapters import tables
from tillkey.payments.bootstrap import SERVICE, bootstrap
from tillkey.payments.config import Settings
from tillkey.payments.entrypoints.sweeper import GatewaySweeper
from tillkey.platform.gauges import schedule_lag
from tillkey.platform.runner import migrations_home, service_main

MIGRATIONS_HOME = migrations_home("tillkey.payments")  # alembic.ini + migrations/, package data


def build_workers(settings: Settings) -> dict:
    service = bootstrap(settings)
    consumer = Consumer(settings.amqp_url, service.topology, service.dispatcher)
    relay = OutboxRelay(settings.amqp_url, service.session_factory, tables.outbox, SERVICE,
                        retention=settings.outbox_retention)
    sweeper = GatewaySweeper(service.deps, settings.scheduler_interval)
    loops: dict[str, object] = {"consumer": consumer, "relay": relay, "gateway-sweeper": sweeper}
    relay.metrics_collectors.append(schedule_lag(SERVICE, {"gateway-sweeper": sweeper}))
    loops.update(dead_letter_care(settings.amqp_url, service.topology, service.dispatcher))
    return loops


def main() -> None:
    service_main(SERVICE, settings_from_env=Settings.from_env, port_of=lambda s: s.port,
                 app_spec="tillkey.payments.entrypoints.app:create_app_from_env()",
                 migrations_home=MIGRATIONS_HOME, build_workers=build_workers,
                 database_url_of=lambda s: s.database_url)
