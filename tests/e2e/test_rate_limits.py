"""Abuse limits through a real gunicorn with two worker processes on PostgreSQL (issue 18).

Two processes, one count: the limit holds whichever worker takes each request, because the
counters live in the service's database. Limits are set low here; the defaults are far higher.
"""
from __future__ import annotations

import uuid

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.e2e.api_process import ApiProcess

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

ADMIN = {"Authorization": "Bearer limits-admin-token"}
CHECKOUT = {"customer": {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "country": "GB"},
            "payment_method": "card", "consents": {"terms": True, "personal_data": True}}


@pytest.fixture
def orders_api(postgres_url, tmp_path):
    api = ApiProcess("orders", {"ORDERS_DATABASE_URL": postgres_url, "ADMIN_TOKEN": "limits-admin-token",
                                "PLATFORM_SECRET": "limits-platform-secret", "RATE_LIMIT_PER_ADDRESS": "8/hour",
                                "RATE_LIMIT_CHECKOUTS_PER_CART": "2/hour"}, tmp_path / "orders.log", workers=2)
    api.migrate()
    api.start()
    yield api
    api.kill()


def test_limits_are_shared_by_the_workers_and_answer_429_with_retry_after(orders_api, postgres_url):
    url = orders_api.url
    m = requests.post(f"{url}/v1/merchants", json={"name": "Acme", "email": "b@acme.example"}, headers=ADMIN).json()
    product = requests.post(f"{url}/v1/products", headers={"Authorization": f"Bearer {m['api_key']}"}, json={
        "name": "Editor", "prices": {"EUR": 4900}, "default_currency": "EUR"}).json()
    line = {"lines": [{"product_id": product["product_id"], "quantity": 1}]}
    # A new connection per request: gunicorn's two workers both take some of them.
    carts = []
    for _ in range(8):
        resp = requests.post(f"{url}/v1/carts", json=line, headers={"Connection": "close"})
        assert resp.status_code == 201, resp.text
        carts.append(resp.json()["cart_id"])
    refused = requests.post(f"{url}/v1/carts", json=line)
    assert refused.status_code == 429, refused.text
    assert refused.headers["Content-Type"] == "application/problem+json" and refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 3601
    # Per cart: a third checkout try of one cart is refused, whatever its answers were.
    cart = carts[0]
    bad = {**CHECKOUT, "consents": {"terms": False, "personal_data": True}}
    assert requests.post(f"{url}/v1/carts/{cart}/checkout", json=bad).status_code == 422
    assert requests.post(f"{url}/v1/carts/{cart}/checkout", json=CHECKOUT).status_code == 201
    third = requests.post(f"{url}/v1/carts/{cart}/checkout", json=CHECKOUT,
                          headers={"Idempotency-Key": uuid.uuid4().hex})
    assert third.status_code == 429 and "Retry-After" in third.headers
    # The counts are in the database both workers share, not in either process's memory: the
    # address's carts window holds all nine tries (eight taken, one refused).
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        assert 9 in set(conn.execute(text("SELECT count FROM rate_limits")).scalars())
    engine.dispose()
