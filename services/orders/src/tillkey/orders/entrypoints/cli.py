"""`tillkey-orders api | worker | migrate`."""
from __future__ import annotations

from pathlib import Path

from tillkey.messaging import OutboxRelay
from tillkey.orders.adapters import tables
from tillkey.orders.bootstrap import SERVICE, bootstrap
from tillkey.orders.config import Settings
from tillkey.platform.runner import service_main

SERVICE_ROOT = Path(__file__).resolve().parents[4]


def build_workers(settings: Settings) -> dict:
    service = bootstrap(settings)
    # Orders consumes no event yet, so there is no consumer: a queue bound to nothing would only
    # collect dead letters. The relay publishes what the API wrote to the outbox.
    return {"relay": OutboxRelay(settings.amqp_url, service.session_factory, tables.outbox, SERVICE)}


def main() -> None:
    service_main(SERVICE, settings_from_env=Settings.from_env, port_of=lambda s: s.port,
                 app_spec="tillkey.orders.entrypoints.app:create_app_from_env()",
                 service_root=SERVICE_ROOT, build_workers=build_workers,
                 database_url_of=lambda s: s.database_url)
