"""The fulfillment HTTP API over a real database (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tillkey.contracts import load_sample
from tillkey.fulfillment.config import Settings
from tillkey.fulfillment.entrypoints.app import create_app
from tillkey.platform import credentials
from tillkey.testing.messaging import sample_envelope

from .conftest import ADMIN, SECRET

pytestmark = pytest.mark.integration
ORDER = "ord_3Hq8ZrW2mNp5"
MERCHANT = "mer_7Yb2kQ9xTz"
URL = f"/v1/orders/{ORDER}/deliveries"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def order(service):
    line = load_sample("order.created")["data"]["lines"][0]
    second = dict(line, line_id="line_second1", product_id="prod_second1", quantity=1)
    service.dispatcher(sample_envelope("order.created", lines=[line, second]))
    return ORDER


def test_health_ready_and_openapi(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json()["checks"] == {"database": "ok"}
    doc = client.get("/openapi.json").get_json()
    assert "/v1/orders/{order_id}/deliveries" in doc["paths"]


def test_readyz_stays_ready_without_a_broker(settings):
    """Requests only write the outbox: a broker outage must not take the API out of its load balancer."""
    app = create_app(Settings(database_url=settings.database_url, amqp_url="amqp://guest:guest@127.0.0.1:1/%2F"))
    assert app.test_client().get("/readyz").status_code == 200
    broker = app.test_client().get("/readyz/broker")
    assert broker.status_code == 503 and broker.get_json()["checks"]["broker"] == "unreachable"
    assert 'tillkey_broker_up{service="fulfillment"} 0.0' in app.test_client().get("/metrics").get_data(as_text=True)
    app.extensions["tillkey.fulfillment"].engine.dispose()


@pytest.mark.parametrize("who", ["customer", "merchant", "admin"])
def test_each_line_has_a_pending_delivery(client, order, who):
    headers = {"merchant": bearer(credentials.make_api_key(SECRET, MERCHANT)), "admin": bearer(ADMIN)}.get(who, {})
    query = {"token": credentials.make_order_token(SECRET, ORDER)} if who == "customer" else {}
    resp = client.get(URL, headers=headers, query_string=query)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"next_cursor": None, "data": [
        {"line_id": "line_9Kd2PqX7aB", "product_id": "prod_5Tg7LmN2cV", "method": None, "status": "pending",
         "reason": None, "licenses": [], "license_tokens": [], "delivered_at": None},
        {"line_id": "line_second1", "product_id": "prod_second1", "method": None, "status": "pending",
         "reason": None, "licenses": [], "license_tokens": [], "delivered_at": None},
    ]}


def test_a_delivered_line_shows_its_licenses(client, service, order):
    with service.uow_factory() as uow:
        line = uow.orders.get(ORDER).deliveries[0]
        line.status, line.method, line.licenses = "delivered", "pool", ["KEY-1", "KEY-2"]
        line.delivered_at = datetime(2026, 11, 27, 11, 0, 0, 123000, tzinfo=UTC)
        uow.commit()
    first = client.get(URL, headers=bearer(ADMIN)).get_json()["data"][0]
    assert (first["status"], first["method"], first["licenses"]) == ("delivered", "pool", ["KEY-1", "KEY-2"])
    assert first["delivered_at"] == "2026-11-27T11:00:00.123Z"


def test_auth_rules(client, order):
    none = client.get(URL)
    assert none.status_code == 401 and none.mimetype == "application/problem+json"
    other_token = credentials.make_order_token(SECRET, "ord_someoneElse1")
    assert client.get(URL, query_string={"token": other_token}).status_code == 404
    assert client.get(URL, headers=bearer("not-a-real-token")).status_code == 404
    resp = client.get(URL, headers=bearer(credentials.make_api_key(SECRET, "mer_otherMerchant9")))
    assert resp.status_code == 404 and resp.get_json()["code"] == "not_found"
    assert client.get(URL, headers=bearer(credentials.make_api_key("wrong-secret", MERCHANT))).status_code == 401


def test_unknown_order_is_404_even_for_admin(client):
    resp = client.get("/v1/orders/ord_unknown123/deliveries", headers=bearer(ADMIN))
    assert resp.status_code == 404 and resp.mimetype == "application/problem+json"


def test_wrong_method_is_a_problem(client, order):
    resp = client.post(URL, headers=bearer(ADMIN), json={})
    assert resp.status_code == 405 and resp.mimetype == "application/problem+json"


def test_a_deleted_order_is_hidden_from_its_customer_and_erased(client, service, order):
    service.dispatcher(sample_envelope("order.deleted"))
    assert client.get(URL, query_string={"token": credentials.make_order_token(SECRET, ORDER)}).status_code == 404
    assert len(client.get(URL, headers=bearer(ADMIN)).get_json()["data"]) == 2
    with service.uow_factory() as uow:
        assert uow.orders.get(ORDER).customer == {"email": None, "first_name": None, "last_name": None, "country": None}
