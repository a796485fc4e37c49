"""The notifications HTTP edge over a real database (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest

from tillkey.notifications.config import Settings
from tillkey.notifications.entrypoints.app import create_app

pytestmark = pytest.mark.integration


def test_health_ready_and_openapi(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json() == {"status": "ready", "checks": {"database": "ok"}}
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.") and doc["info"]["title"] == "Tillkey notifications API"


def test_readyz_stays_ready_without_a_broker(settings):
    """Requests only write the outbox: a broker outage must not take the API out of its load balancer."""
    app = create_app(Settings(database_url=settings.database_url, amqp_url="amqp://guest:guest@127.0.0.1:1/%2F"))
    assert app.test_client().get("/readyz").status_code == 200
    broker = app.test_client().get("/readyz/broker")
    assert broker.status_code == 503 and broker.get_json()["checks"]["broker"] == "unreachable"
    assert 'tillkey_broker_up{service="notifications"} 0.0' in app.test_client().get("/metrics").get_data(as_text=True)
    app.extensions["tillkey.notifications"].engine.dispose()


def test_unknown_paths_are_problems(client):
    resp = client.get("/v1/nothing-here")
    assert resp.status_code == 404 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["code"] == "not_found"
