import pytest

from tillkey.messaging import Consumer
from tillkey.notifications.bootstrap import build_mail_sender
from tillkey.notifications.config import Settings
from tillkey.notifications.entrypoints.app import create_app
from tillkey.notifications.entrypoints.cli import MIGRATIONS_HOME
from tillkey.platform.runner import migrate
from tillkey.testing.messaging import CountingHandler, declare_fresh

SECRET, ADMIN = "test-platform-secret", "test-admin-token"
ORDERS_URL, PAYMENTS_URL = "http://orders.test", "http://payments.test"


@pytest.fixture
def settings(database_url, amqp_url, smtp_sink):
    migrate(MIGRATIONS_HOME, database_url)
    # Short retry steps and poll interval: the outage tests wait seconds, not minutes.
    return Settings(database_url=database_url, amqp_url=amqp_url, platform_secret=SECRET, admin_token=ADMIN,
                    orders_public_url=ORDERS_URL, payments_public_url=PAYMENTS_URL,
                    smtp_host=smtp_sink.host, smtp_port=smtp_sink.port, smtp_from="Tillkey <mail@tillkey.test>",
                    smtp_timeout=5.0, retry_schedule=(0.2, 0.5), sender_poll_interval=0.05)


@pytest.fixture
def app(settings):
    app = create_app(settings)
    yield app
    app.extensions["tillkey.notifications"].engine.dispose()


@pytest.fixture
def service(app):
    return app.extensions["tillkey.notifications"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def consumer(service, settings):
    """The worker's consumer on the real broker, counting what it finished (`consumer.counter.seen`)."""
    declare_fresh(settings.amqp_url, service.topology)
    counter = CountingHandler(service.dispatcher)
    consumer = Consumer(settings.amqp_url, service.topology, counter)
    consumer.counter = counter
    return consumer


@pytest.fixture
def mail(service):
    """The worker's sender loop, pointed at the test's SMTP sink."""
    return build_mail_sender(service)
