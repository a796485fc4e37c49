import json

import pytest
from sqlalchemy import select

from tillkey.contracts import load_sample
from tillkey.fulfillment.adapters import tables
from tillkey.fulfillment.adapters.license_worker import LicenseCallWorker
from tillkey.fulfillment.bootstrap import wake_on_scheduled_calls
from tillkey.fulfillment.config import Settings
from tillkey.fulfillment.entrypoints.app import create_app
from tillkey.fulfillment.entrypoints.cli import MIGRATIONS_HOME
from tillkey.platform import credentials
from tillkey.platform.runner import migrate
from tillkey.testing.messaging import sample_envelope

SECRET, ADMIN = "test-platform-secret", "test-admin-token"
MERCHANT = "mer_7Yb2kQ9xTz"
SHORT_SCHEDULE = (0.2, 0.2, 0.2)


@pytest.fixture
def settings(database_url, amqp_url):
    migrate(MIGRATIONS_HOME, database_url)
    # The merchant's servers in these tests run on loopback, which this switch allows (docs/integration.md).
    return Settings(database_url=database_url, amqp_url=amqp_url, platform_secret=SECRET, admin_token=ADMIN,
                    allow_private_urls=True, license_web_service_retry_schedule=SHORT_SCHEDULE,
                    license_web_service_timeout=2.0, orders_internal_url="http://127.0.0.1:1")


@pytest.fixture
def app(settings):
    app = create_app(settings)
    yield app
    app.extensions["tillkey.fulfillment"].engine.dispose()


@pytest.fixture
def service(app):
    return app.extensions["tillkey.fulfillment"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def license_worker(service, monkeypatch):
    """The scheduled loop that calls license web services, as the worker process runs it: woken
    after each message the service handles that scheduled a call, as the process's consumer does
    after each batch (an idle worker otherwise sleeps until the next call it knows of falls due, so
    a missed wake-up fails these tests by timing out)."""
    worker = LicenseCallWorker(service.handle, service.license_client, service.deps.clock,
                               schedule=service.settings.license_web_service_retry_schedule,
                               timeout=service.settings.license_web_service_timeout, poll_interval=0.05,
                               jitter=lambda: 0.5)
    dispatch = service.dispatcher
    after_batch = wake_on_scheduled_calls(service.calls_scheduled, worker)
    assert service.calls_scheduled is not None  # the production wiring, not the always-wake fallback

    def dispatch_then_wake(envelope):
        dispatch(envelope)
        after_batch()

    monkeypatch.setattr(service, "dispatcher", dispatch_then_wake)
    return worker


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def merchant_headers(merchant_id=MERCHANT):
    return bearer(credentials.make_api_key(SECRET, merchant_id))


def know_product(service, product_id, merchant_id=MERCHANT):
    """Fulfillment hears of the product as it would from orders' product.created."""
    service.dispatcher(sample_envelope("product.created", new_id=True, product_id=product_id,
                                       merchant_id=merchant_id))


def place_order(service, order_id, lines, *, created_at="2026-11-27T10:00:00.000Z", merchant_id=MERCHANT):
    """order.created with `lines` = [(line_id, product_id, quantity), …]."""
    sample = load_sample("order.created")["data"]["lines"][0]
    service.dispatcher(sample_envelope(
        "order.created", new_id=True, order_id=order_id, merchant_id=merchant_id, created_at=created_at,
        lines=[dict(sample, line_id=line_id, product_id=product_id, quantity=quantity)
               for line_id, product_id, quantity in lines]))


def pay(service, order_id, merchant_id=MERCHANT):
    service.dispatcher(sample_envelope("order.paid", new_id=True, order_id=order_id,
                                       merchant_id=merchant_id))


def deliveries(service, order_id):
    with service.uow_factory() as uow:
        return {d.line_id: d for d in uow.orders.get_with_lines(order_id).deliveries}


def emitted(service, type):
    """Data of the events this service wrote to its outbox, of one type, oldest first."""
    with service.session_factory() as session:
        rows = session.execute(select(tables.outbox.c.body).where(tables.outbox.c.routing_key == type)
                               .order_by(tables.outbox.c.seq)).scalars()
        return [json.loads(body)["data"] for body in rows]
