"""pytest fixtures every Tillkey test suite gets (registered as the `tillkey` pytest plugin)."""
from __future__ import annotations

import pytest

from tillkey.testing import databases, servers


@pytest.fixture(scope="session")
def amqp_server_url():
    url, container = servers.resolve("amqp")
    yield url
    if container is not None:
        container.stop()


@pytest.fixture(scope="session")
def amqp_url(amqp_server_url):
    """A vhost of its own for this test session: the suites never see each other's queues."""
    url, vhost = servers.create_vhost(amqp_server_url)
    yield url
    servers.delete_vhost(vhost)


@pytest.fixture
def fresh_amqp_url(amqp_server_url):
    """A vhost of its own for one test (end-to-end tests that run whole processes)."""
    url, vhost = servers.create_vhost(amqp_server_url)
    yield url
    servers.delete_vhost(vhost)


@pytest.fixture(scope="session")
def postgres_server_url():
    url, container = servers.resolve("postgres")
    yield url
    if container is not None:
        container.stop()


@pytest.fixture
def postgres_url(postgres_server_url):
    url = databases.create_postgres_database(postgres_server_url)
    yield url
    databases.drop_postgres_database(postgres_server_url, url)


@pytest.fixture(scope="module")
def private_postgres_server():
    """A PostgreSQL server of the test module's own, for tests that restart it mid-flow
    (`restart_immediate()`): the shared server other suites use is never restarted."""
    from tillkey.testing.private_postgres import PrivatePostgres

    server = PrivatePostgres().start()
    yield server
    server.stop()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Database-backed tests run on both SQLite (the default) and PostgreSQL (production)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    server = request.getfixturevalue("postgres_server_url")
    url = databases.create_postgres_database(server)
    yield url
    databases.drop_postgres_database(server, url)


# The real SMTP server on loopback (aiosmtpd), for every suite.
from tillkey.testing.smtp import smtp_sink  # noqa: E402, F401
