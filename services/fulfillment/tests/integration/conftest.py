import pytest

from tillkey.fulfillment.config import Settings
from tillkey.fulfillment.entrypoints.app import create_app
from tillkey.fulfillment.entrypoints.cli import SERVICE_ROOT
from tillkey.platform.runner import migrate

SECRET, ADMIN = "test-platform-secret", "test-admin-token"


@pytest.fixture
def settings(database_url, amqp_url):
    migrate(SERVICE_ROOT, database_url)
    return Settings(database_url=database_url, amqp_url=amqp_url, platform_secret=SECRET, admin_token=ADMIN)


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
