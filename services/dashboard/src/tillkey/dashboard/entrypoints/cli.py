"""`tillkey-dashboard api | migrate` (the dashboard has no worker: it consumes no events)."""
from __future__ import annotations

import sys

from tillkey.dashboard.bootstrap import SERVICE
from tillkey.dashboard.config import Settings
from tillkey.platform.runner import migrations_home, service_main

MIGRATIONS_HOME = migrations_home("tillkey.dashboard")  # alembic.ini + migrations/, package data


def build_workers(settings: Settings, **overrides) -> dict:
    sys.exit("tillkey-dashboard has no worker: run `tillkey-dashboard api`.")


def main() -> None:
    service_main(SERVICE, settings_from_env=Settings.from_env, port_of=lambda s: s.port,
                 app_spec="tillkey.dashboard.entrypoints.app:create_app_from_env()",
                 migrations_home=MIGRATIONS_HOME, build_workers=build_workers,
                 database_url_of=lambda s: s.database_url)
