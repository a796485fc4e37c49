"""A keyed checkout whose API process dies, or whose PostgreSQL restarts, mid-request (issue 18).

A keyed payment attempt (payments, bank transfer) meets the same PostgreSQL restart.

The request is held at its worst moment — the order written, the answer not yet stored — by a
test connection that locks the key table; then the real gunicorn is SIGKILLed, or PostgreSQL
restarted with `-m immediate`. The retry with the same key must succeed within 10 s, create
exactly one order, and give the customer the order id and token (no 409 for minutes, no
"cart already checked out").

The PostgreSQL that restarts is this module's own (tillkey.testing.private_postgres): restarting the
machine's shared server cut the connections of every other suite running beside this one.
"""
from __future__ import annotations

import threading
import time
import uuid

import pytest
import requests
from sqlalchemy import create_engine, func, select, text

from tests.e2e.api_process import ApiProcess
from tillkey.orders.adapters import tables
from tillkey.testing.databases import create_postgres_database, drop_postgres_database

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

ADMIN = {"Authorization": "Bearer crash-admin-token"}
CHECKOUT = {"customer": {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "country": "GB"},
            "payment_method": "card", "consents": {"terms": True, "personal_data": True}}
RETRY_WITHIN = 10.0


@pytest.fixture
def postgres_url(private_postgres_server):
    """A fresh database on this module's own server (the shared fixture's, moved)."""
    url = create_postgres_database(private_postgres_server.url)
    yield url
    if private_postgres_server.is_up():
        drop_postgres_database(private_postgres_server.url, url)


@pytest.fixture
def postgres_kept_up(private_postgres_server):
    """Whatever a test does to the server, it is running again afterwards."""
    yield
    assert private_postgres_server.is_up(), "the module's PostgreSQL is not running after the test"


@pytest.fixture
def orders_api(postgres_url, tmp_path):
    api = ApiProcess("orders", {"ORDERS_DATABASE_URL": postgres_url, "ADMIN_TOKEN": "crash-admin-token",
                                "PLATFORM_SECRET": "crash-platform-secret"}, tmp_path / "orders.log")
    api.migrate()
    api.start()
    yield api
    api.kill()


def _cart(api: ApiProcess) -> str:
    m = requests.post(f"{api.url}/v1/merchants", json={"name": "Acme", "email": "b@acme.example"}, headers=ADMIN).json()
    merchant = {"Authorization": f"Bearer {m['api_key']}"}
    product = requests.post(f"{api.url}/v1/products", headers=merchant, json={
        "name": "Editor", "prices": {"EUR": 4900}, "default_currency": "EUR"}).json()
    # Keyed, so the worker has done its first-request pruning of old keys before the table is locked.
    cart = requests.post(f"{api.url}/v1/carts", headers={"Idempotency-Key": uuid.uuid4().hex},
                         json={"lines": [{"product_id": product["product_id"], "quantity": 1}]})
    assert cart.status_code == 201, cart.text
    return cart.json()["cart_id"]


class AnswerHeld:
    """A test transaction that blocks every write to `idempotency_keys`: a keyed request waits
    there with its effect done and its answer not stored."""

    def __init__(self, url: str):
        self.engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        self.conn = self.engine.connect()
        self.conn.begin()
        self.conn.execute(text("LOCK TABLE idempotency_keys IN SHARE ROW EXCLUSIVE MODE"))

    def wait_for_blocked_insert(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        with self.engine.connect() as watcher:
            while time.monotonic() < deadline:
                if watcher.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                        "AND query ILIKE 'INSERT INTO idempotency_keys%'")).scalar_one():
                    return
                watcher.rollback()  # pg_stat_activity is a snapshot per transaction: take a new one
                time.sleep(0.05)
            activity = list(watcher.execute(text("SELECT state, wait_event, left(query, 80) FROM pg_stat_activity")))
        raise AssertionError(f"the checkout never reached the point of storing its answer: {activity}")

    def release(self) -> None:
        try:
            self.conn.close()
        except Exception:  # noqa: BLE001 — gone with a restarted server: released all the same
            pass
        self.engine.dispose()


def _in_flight(url: str, key: str) -> dict:
    """Send the checkout on a thread; its outcome (answer or error) lands in the returned dict."""
    outcome: dict = {}

    def send():
        try:
            outcome["response"] = requests.post(url, json=CHECKOUT, headers={"Idempotency-Key": key}, timeout=60)
        except requests.RequestException as exc:
            outcome["error"] = exc

    outcome["thread"] = threading.Thread(target=send, daemon=True)
    outcome["thread"].start()
    return outcome


def _retry_until_created(url: str, key: str, since: float) -> tuple[requests.Response, list[int]]:
    seen = []
    while time.monotonic() - since < RETRY_WITHIN:
        try:
            resp = requests.post(url, json=CHECKOUT, headers={"Idempotency-Key": key}, timeout=5)
        except requests.RequestException:
            seen.append(0)
            time.sleep(0.2)
            continue
        seen.append(resp.status_code)
        if resp.status_code == 201:
            print(f"201 after {time.monotonic() - since:.2f}s; answers before: {seen[:-1]}")
            return resp, seen
        assert resp.status_code in (503,), (resp.status_code, resp.text)
        time.sleep(float(resp.headers.get("Retry-After", "0.5")) / 4)
    raise AssertionError(f"no 201 within {RETRY_WITHIN}s; answers {seen}")


def _orders_of(postgres_url: str, cart_id: str) -> list[str]:
    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        order_ids = list(conn.execute(select(tables.orders.c.order_id).where(
            tables.orders.c.order_id.in_(select(tables.carts.c.order_id).where(tables.carts.c.cart_id == cart_id)))
        ).scalars())
        total = conn.execute(select(func.count()).select_from(tables.orders)).scalar_one()
    engine.dispose()
    assert total == len(order_ids), "an order that no cart points at"
    return order_ids


def _same_answer_again(api: ApiProcess, url: str, key: str, first: requests.Response) -> None:
    again = requests.post(url, json=CHECKOUT, headers={"Idempotency-Key": key}, timeout=5)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    body = first.json()
    order = requests.get(f"{api.url}/v1/orders/{body['order_id']}", params={"token": body["order_token"]}, timeout=5)
    assert order.status_code == 200 and order.json()["order_id"] == body["order_id"]


def test_checkout_killed_before_its_answer_was_stored(orders_api, postgres_url):
    cart_id, key = _cart(orders_api), uuid.uuid4().hex
    url = f"{orders_api.url}/v1/carts/{cart_id}/checkout"
    held = AnswerHeld(postgres_url)
    first = _in_flight(url, key)
    held.wait_for_blocked_insert()
    # While it runs, the same key is refused at once: never a second checkout beside the first.
    running = requests.post(url, json=CHECKOUT, headers={"Idempotency-Key": key}, timeout=5)
    assert running.status_code == 409 and running.json()["code"] == "idempotency_in_progress"
    orders_api.kill()
    killed_at = time.monotonic()
    held.release()
    first["thread"].join(10)
    assert "error" in first, "the killed request still got an answer"
    orders_api.start()
    created, seen = _retry_until_created(url, key, killed_at)
    assert time.monotonic() - killed_at < RETRY_WITHIN and 409 not in seen
    assert _orders_of(postgres_url, cart_id) == [created.json()["order_id"]]
    _same_answer_again(orders_api, url, key, created)


def test_checkout_across_a_postgres_immediate_restart(orders_api, postgres_url, postgres_kept_up,
                                                     private_postgres_server):
    cart_id, key = _cart(orders_api), uuid.uuid4().hex
    url = f"{orders_api.url}/v1/carts/{cart_id}/checkout"
    held = AnswerHeld(postgres_url)
    first = _in_flight(url, key)
    held.wait_for_blocked_insert()
    restarted_at = time.monotonic()
    private_postgres_server.restart_immediate()
    held.release()
    first["thread"].join(20)
    # The request that met the restart: "come back in a moment", not a 500.
    answer = first["response"]
    assert answer.status_code == 503, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json" and int(answer.headers["Retry-After"]) >= 1
    created, seen = _retry_until_created(url, key, restarted_at)
    assert 409 not in seen
    assert _orders_of(postgres_url, cart_id) == [created.json()["order_id"]]
    _same_answer_again(orders_api, url, key, created)


@pytest.fixture
def payments_api(postgres_url, tmp_path):
    """Payments on a real gunicorn, with an order it already knows (recorded as its consumer would)."""
    from tillkey.payments.bootstrap import bootstrap
    from tillkey.payments.config import Settings
    from tillkey.testing.messaging import sample_envelope

    api = ApiProcess("payments", {"PAYMENTS_DATABASE_URL": postgres_url, "ADMIN_TOKEN": "crash-admin-token",
                                  "PLATFORM_SECRET": "crash-platform-secret"}, tmp_path / "payments.log")
    api.migrate()
    service = bootstrap(Settings(database_url=postgres_url, platform_secret="crash-platform-secret"))
    created = sample_envelope("order.created", new_id=True)
    service.dispatcher(created)
    service.engine.dispose()
    api.order_id = created.data["order_id"]
    api.start()
    yield api
    api.kill()


def test_payment_attempt_across_a_postgres_immediate_restart(payments_api, postgres_url, postgres_kept_up,
                                                           private_postgres_server):
    from tillkey.payments.adapters import tables as payment_tables
    from tillkey.platform.credentials import make_order_token

    order_id, key = payments_api.order_id, uuid.uuid4().hex
    token = make_order_token("crash-platform-secret", order_id)
    url = f"{payments_api.url}/v1/orders/{order_id}/payments?token={token}"
    body = {"method": "bank_transfer"}
    # Warm the worker (its first keyed request prunes old keys) on another key: a 201 whose attempt
    # the crashed one then supersedes.
    assert requests.post(url, json=body, headers={"Idempotency-Key": "warm-up"}).status_code == 201
    held = AnswerHeld(postgres_url)
    outcome: dict = {}
    thread = threading.Thread(target=lambda: outcome.update(
        response=requests.post(url, json=body, headers={"Idempotency-Key": key}, timeout=60)), daemon=True)
    thread.start()
    held.wait_for_blocked_insert()
    restarted_at = time.monotonic()
    private_postgres_server.restart_immediate()
    held.release()
    thread.join(20)
    assert outcome["response"].status_code == 503 and "Retry-After" in outcome["response"].headers
    seen = []
    while time.monotonic() - restarted_at < RETRY_WITHIN:
        try:
            retry = requests.post(url, json=body, headers={"Idempotency-Key": key}, timeout=5)
            seen.append(retry.status_code)
            if retry.status_code == 201:
                break
        except requests.RequestException:
            seen.append(0)
        time.sleep(0.3)
    assert seen[-1] == 201 and 409 not in seen, seen
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        attempts = list(conn.execute(select(payment_tables.payments.c.payment_id).where(
            payment_tables.payments.c.order_id == order_id)).scalars())
    engine.dispose()
    # The warm-up's and exactly one for the key; the retry's answer names the one that exists.
    assert len(attempts) == 2 and retry.json()["payment_id"] in attempts
    again = requests.post(url, json=body, headers={"Idempotency-Key": key}, timeout=5)
    assert again.json() == retry.json() and again.headers["Idempotent-Replayed"] == "true"
