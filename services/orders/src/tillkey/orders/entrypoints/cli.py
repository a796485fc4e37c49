"""`tillkey-orders api | worker | migrate`."""
from __future__ import annotations

from tillkey.orders.bootstrap import SERVICE, build_workers
from tillkey.orders.config import Settings
from tillkey.platform.runner import migrations_home, service_main

MIGRATIONS_HOME = migrations_home("tillkey.orders")  # alembic.ini + migrations/, package data


def main() -> None:
    service_main(SERVICE, settings_from_env=Settings.from_env, port_of=lambda s: s.port,
                 app_spec="tillkey.orders.entrypoints.app:create_app_from_env()",
                 migrations_home=MIGRATIONS_HOME, build_workers=build_workers,
                 database_url_of=lambda s: s.database_url)
