"""Integration fixtures: the real app over a freshly migrated SQLite or PostgreSQL database."""
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tillkey.orders.adapters import tables
from tillkey.orders.config import Settings
from tillkey.orders.entrypoints.app import create_app
from tillkey.orders.entrypoints.cli import MIGRATIONS_HOME
from tillkey.platform.clock import FixedClock
from tillkey.platform.runner import migrate

SECRET, ADMIN = "test-platform-secret", "test-admin-token"
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture
def settings(database_url):
    migrate(MIGRATIONS_HOME, database_url)
    return Settings(database_url=database_url, platform_secret=SECRET, admin_token=ADMIN,
                    orders_public_url="https://shop.test", payments_public_url="https://pay.test")


@pytest.fixture
def clock():
    return FixedClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def app(settings, clock):
    app = create_app(settings, clock=clock)
    yield app
    app.extensions["tillkey.orders"].engine.dispose()


@pytest.fixture
def service(app):
    return app.extensions["tillkey.orders"]


@pytest.fixture
def client(app):
    return app.test_client()


class Db:
    """Direct reads, to prove what a request did (or did not) write."""

    def __init__(self, engine):
        self.engine = engine

    def count(self, table) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table)).scalar_one()

    def snapshot(self) -> dict:
        # Bookkeeping of the HTTP edge, not state: replayable answers and abuse-limit counters.
        return {t.name: self.count(t) for t in tables.metadata.sorted_tables
                if t.name not in ("idempotency_keys", "rate_limits")}

    def outbox(self, routing_key: str) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(tables.outbox.c.body).where(tables.outbox.c.routing_key == routing_key)
                                     .order_by(tables.outbox.c.seq)).scalars())


@pytest.fixture
def db(service):
    return Db(service.engine)


@pytest.fixture
def merchant(client):
    """(merchant_id, headers) of a fresh merchant."""
    resp = client.post("/v1/merchants", json={"name": "Acme", "email": "billing@acme.example"}, headers=ADMIN_HEADERS)
    assert resp.status_code == 201, resp.json
    return resp.json["merchant_id"], {"Authorization": f"Bearer {resp.json['api_key']}"}


@pytest.fixture
def other_merchant(client):
    resp = client.post("/v1/merchants", json={"name": "Other", "email": "o@other.example"}, headers=ADMIN_HEADERS)
    return resp.json["merchant_id"], {"Authorization": f"Bearer {resp.json['api_key']}"}


@pytest.fixture
def make_product(client, merchant, clock):
    def make(name="Pro Editor", prices=None, default_currency="EUR", headers=None, **extra):
        clock.advance(seconds=1)    # distinct created_at: lists are newest first
        body = {"name": name, "prices": prices or {"EUR": 4900, "USD": 5400, "JPY": 7000},
                "default_currency": default_currency, **extra}
        resp = client.post("/v1/products", json=body, headers=headers or merchant[1])
        assert resp.status_code == 201, resp.json
        return resp.json
    return make


CUSTOMER = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "country": "GB",
            "company": "Analytical Engines", "vat_id": "GB123", "locale": "en"}
CHECKOUT = {"customer": CUSTOMER, "payment_method": "card", "consents": {"terms": True, "personal_data": True}}


@pytest.fixture
def admin():
    return dict(ADMIN_HEADERS)


@pytest.fixture
def checkout_body():
    import copy
    return copy.deepcopy(CHECKOUT)


@pytest.fixture
def place_order(client, make_product, checkout_body):
    """place_order(quantities=(1,), coupon=None) → the checkout answer (order, order_token, …)."""
    def place(quantities=(1,), coupon=None, headers=None):
        lines = [{"product_id": make_product(name=f"Product {i}")["product_id"], "quantity": q}
                 for i, q in enumerate(quantities)]
        body = {"lines": lines, **({"coupon": coupon} if coupon else {})}
        cart = client.post("/v1/carts", json=body)
        assert cart.status_code == 201, cart.json
        resp = client.post(f"/v1/carts/{cart.json['cart_id']}/checkout", json=checkout_body)
        assert resp.status_code == 201, resp.json
        return resp.json
    return place


@pytest.fixture
def deliver(service):
    """Apply an event as the consumer would (inbox included), without the broker: deliver(type, **data)."""
    from tillkey.testing.messaging import sample_envelope

    def apply(type_, **data):
        service.dispatcher(sample_envelope(type_, new_id=True, **data))
    return apply


@pytest.fixture
def pay(deliver):
    def paid(order: dict) -> None:
        deliver("payment.succeeded", order_id=order["order_id"], merchant_id=order["merchant_id"],
                amount=order["total"], currency=order["currency"])
    return paid
