"""`tillkey-admin webhook-endpoints` against a real database (SQLite and PostgreSQL): a disabled
endpoint is listed with its reason and re-enabled, as the running service sees it."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tillkey.webhooks.service_layer import endpoints as uc

from .conftest import MERCHANT, auth

pytestmark = pytest.mark.integration
ADMIN = os.path.join(os.path.dirname(sys.executable), "tillkey-admin")


def admin(database_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ADMIN, "webhook-endpoints", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "WEBHOOKS_DATABASE_URL": database_url, "ALLOW_PRIVATE_URLS": "true"})


def test_a_disabled_endpoint_is_listed_and_enabled_again(client, service, settings):
    created = client.post("/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/hooks", "events": ["*"]},
                          headers=auth())
    assert created.status_code == 201, created.get_json()
    endpoint_id = created.get_json()["endpoint_id"]
    service.handle(uc.UpdateEndpoint(MERCHANT, endpoint_id, enabled=False))

    listed = admin(settings.database_url, "disabled")
    assert listed.returncode == 0, listed.stderr
    assert [json.loads(line)["endpoint_id"] for line in listed.stdout.splitlines()] == [endpoint_id]

    enabled = admin(settings.database_url, "enable", endpoint_id)
    assert enabled.returncode == 0 and json.loads(enabled.stdout) == {"endpoint_id": endpoint_id, "enabled": True}
    assert client.get("/v1/webhook-endpoints", headers=auth()).get_json()["data"][0]["enabled"] is True
    assert admin(settings.database_url, "disabled").stdout == ""
    assert admin(settings.database_url, "enable", "we_nope").returncode == 1
