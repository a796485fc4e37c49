import pytest

from tillkey.notifications.config import Settings
from tillkey.notifications.entrypoints.app import create_app
from tillkey.notifications.entrypoints.cli import SERVICE_ROOT
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
    app.extensions["tillkey.notifications"].engine.dispose()


@pytest.fixture
def service(app):
    return app.extensions["tillkey.notifications"]


@pytest.fixture
def client(app):
    return app.test_client()
