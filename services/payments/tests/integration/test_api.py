"""The payments HTTP API over a real database (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tillkey.payments.config import Settings
from tillkey.payments.domain.model import Payment
from tillkey.payments.entrypoints.app import create_app
from tillkey.platform import credentials
from tillkey.testing.messaging import sample_envelope

from .conftest import ADMIN, SECRET

pytestmark = pytest.mark.integration
ORDER = "ord_3Hq8ZrW2mNp5"
MERCHANT = "mer_7Yb2kQ9xTz"
URL = f"/v1/orders/{ORDER}/payments"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def order(service):
    service.dispatcher(sample_envelope("order.created"))
    return ORDER


def test_health_ready_and_openapi(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json()["checks"] == {"database": "ok"}
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert {"/v1/payment-methods", "/v1/orders/{order_id}/payments"} <= set(doc["paths"])


def test_readyz_stays_ready_without_a_broker(settings):
    """Requests only write the outbox: a broker outage must not take the API out of its load balancer."""
    app = create_app(Settings(database_url=settings.database_url, amqp_url="amqp://guest:guest@127.0.0.1:1/%2F"))
    assert app.test_client().get("/readyz").status_code == 200
    broker = app.test_client().get("/readyz/broker")
    assert broker.status_code == 503 and broker.get_json()["checks"]["broker"] == "unreachable"
    assert 'tillkey_broker_up{service="payments"} 0.0' in app.test_client().get("/metrics").get_data(as_text=True)
    app.extensions["tillkey.payments"].engine.dispose()


def test_payment_methods_for_anyone(client):
    resp = client.get("/v1/payment-methods")
    assert resp.status_code == 200
    methods = {m["method"]: m for m in resp.get_json()["data"]}
    assert methods["card"]["kind"] == "online" and methods["bank_transfer"]["kind"] == "offline"
    assert all(m["name"] for m in methods.values())


@pytest.mark.parametrize("who", ["customer", "merchant", "admin"])
def test_the_order_owner_sees_its_attempts(client, order, who):
    headers = {"merchant": bearer(credentials.make_api_key(SECRET, MERCHANT)), "admin": bearer(ADMIN)}.get(who, {})
    query = {"token": credentials.make_order_token(SECRET, ORDER)} if who == "customer" else {}
    resp = client.get(URL, headers=headers, query_string=query)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"data": [], "next_cursor": None}


def test_auth_rules(client, order):
    none = client.get(URL)
    assert none.status_code == 401 and none.mimetype == "application/problem+json"
    assert none.get_json()["code"] == "unauthorized"
    other_token = credentials.make_order_token(SECRET, "ord_someoneElse1")
    assert client.get(URL, query_string={"token": other_token}).status_code == 404
    assert client.get(URL, query_string={"token": "nonsense"}).status_code == 404
    other_merchant = credentials.make_api_key(SECRET, "mer_otherMerchant9")
    resp = client.get(URL, headers=bearer(other_merchant))
    assert resp.status_code == 404 and resp.get_json()["code"] == "not_found"
    forged = credentials.make_api_key("another-secret", MERCHANT)
    assert client.get(URL, headers=bearer(forged)).status_code == 401


def test_unknown_order_is_404_even_for_admin(client):
    assert client.get("/v1/orders/ord_unknown123/payments", headers=bearer(ADMIN)).status_code == 404


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "201"}, {"limit": "x"}, {"cursor": "!!"},
                                   {"color": "red"}])
def test_bad_query_is_422(client, order, query):
    resp = client.get(URL, headers=bearer(ADMIN), query_string=query)
    assert resp.status_code == 422
    assert resp.get_json()["code"] == "validation_error" and resp.get_json()["errors"]


def test_a_deleted_order_is_hidden_from_its_customer_only(client, service, order):
    service.dispatcher(sample_envelope("order.deleted"))
    token = credentials.make_order_token(SECRET, ORDER)
    assert client.get(URL, query_string={"token": token}).status_code == 404
    assert client.get(URL, headers=bearer(ADMIN)).status_code == 200
    assert client.get(URL, headers=bearer(credentials.make_api_key(SECRET, MERCHANT))).status_code == 200


def test_attempts_are_listed_newest_first_with_a_cursor(client, service, order):
    with service.uow_factory() as uow:
        o = uow.orders.get(ORDER)
        t0 = service.deps.clock.now()
        for i in range(3):
            at = t0 + timedelta(seconds=i)
            o.payments.append(Payment(f"pay_{i}", ORDER, "card", "failed", 8820, "EUR", at, at,
                                      failure_code="card_declined", failure_message="Declined"))
        uow.commit()
    first = client.get(URL, headers=bearer(ADMIN), query_string={"limit": 2}).get_json()
    assert [p["payment_id"] for p in first["data"]] == ["pay_2", "pay_1"]
    assert first["data"][0]["failure"] == {"code": "card_declined", "message": "Declined"}
    assert first["data"][0]["created_at"].endswith("Z") and first["data"][0]["amount"] == 8820
    assert first["next_cursor"]
    token = credentials.make_order_token(SECRET, ORDER)
    second = client.get(URL, query_string={"limit": 2, "cursor": first["next_cursor"], "token": token}).get_json()
    assert [p["payment_id"] for p in second["data"]] == ["pay_0"] and second["next_cursor"] is None


def test_a_free_order_shows_its_free_payment(client, service):
    service.dispatcher(sample_envelope("order.created", total=0, discount=9800))
    [payment] = client.get(URL, headers=bearer(ADMIN)).get_json()["data"]
    assert (payment["method"], payment["status"], payment["amount"]) == ("free", "succeeded", 0)
