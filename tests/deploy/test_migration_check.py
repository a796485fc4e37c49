"""`tillkey-<service> migrate --check`: what a new pod's init container waits on (docs/deploy.md)."""
from __future__ import annotations

import pytest

from tillkey.platform.migrations import migrate, migrations_home, pending

SERVICES = ["orders", "payments", "fulfillment", "notifications", "webhooks"]


@pytest.mark.parametrize("service", SERVICES)
def test_every_head_is_pending_on_an_empty_database_and_none_after_migrating(service, tmp_path):
    home = migrations_home(f"tillkey.{service}")
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    missing = pending(home, url)
    assert missing and all(isinstance(head, str) for head in missing)
    migrate(home, url)
    assert pending(home, url) == set()


def test_a_package_without_migrations_is_refused_with_a_clear_message():
    with pytest.raises(RuntimeError, match="no alembic.ini"):
        migrations_home("tillkey.contracts")
