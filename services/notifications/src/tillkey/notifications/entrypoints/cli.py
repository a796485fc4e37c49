"""`tillkey-notifications api | worker | migrate`."""
from __future__ import annotations

from tillkey.notifications.bootstrap import SERVICE, build_workers
from tillkey.notifications.config import Settings
from tillkey.platform.runner import migrations_home, service_main

MIGRATIONS_HOME = migrations_home("tillkey.notifications")  # alembic.ini + migrations/, package data


def main() -> None:
    service_main(SERVICE, settings_from_env=Settings.from_env, port_of=lambda s: s.port,
                 app_spec="tillkey.notifications.entrypoints.app:create_app_from_env()",
                 migrations_home=MIGRATIONS_HOME, build_workers=build_workers,
                 database_url_of=lambda s: s.database_url)
