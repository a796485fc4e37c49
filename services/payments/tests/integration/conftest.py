import pytest

from tillkey.payments.config import Settings
from tillkey.payments.entrypoints.app import create_app
from tillkey.payments.entrypoints.cli import MIGRATIONS_HOME
from tillkey.platform.runner import migrate

SECRET, ADMIN = "test-platform-secret", "test-admin-token"


@pytest.fixture
def settings(database_url, amqp_url):
    migrate(MIGRATIONS_HOME, database_url)
    return Settings(database_url=database_url, amqp_url=amqp_url, platform_secret=SECRET, admin_token=ADMIN)


@pytest.fixture
def app(settings):
    app = create_app(settings)
    yield app
    app.extensions["tillkey.payments"].dispatcher.join()  # follow-ups still sending refunds
    app.extensions["tillkey.payments"].engine.dispose()


@pytest.fixture
def service(app):
    return app.extensions["tillkey.payments"]


@pytest.fixture
def client(app):
    return app.test_client()


# -- the card path: the real sandbox process and payments on a real HTTP port -------------------------

@pytest.fixture(scope="session")
def sandbox_gateway(tmp_path_factory):
    from tillkey.contracts.signing import new_secret

    from ..sandbox.conftest import SandboxProcess

    proc = SandboxProcess(tmp_path_factory.mktemp("sandbox"), new_secret()).start()
    yield proc
    proc.stop()


@pytest.fixture
def make_shop(database_url, amqp_url, sandbox_gateway):
    """payments on a free port, talking to the sandbox (or to `gateway_url`, e.g. a closed port)."""
    from tillkey.devtools.launcher import free_port
    from tillkey.payments.adapters.sandbox_gateway import SandboxGateway

    from .live import LiveServer, Shop

    migrate(MIGRATIONS_HOME, database_url)
    started = []

    def make(gateway_url: str | None = None, sandbox=None, **settings_overrides) -> Shop:
        sandbox = sandbox or sandbox_gateway
        server = LiveServer(free_port())
        settings = Settings(database_url=database_url, amqp_url=amqp_url, platform_secret=SECRET, admin_token=ADMIN,
                            payments_public_url=server.url, sandbox_gateway_url=gateway_url or sandbox.url,
                            sandbox_public_url=sandbox.url, sandbox_gateway_secret=sandbox.secret,
                            **settings_overrides)
        # Quick retries: a gateway that is down should fail the attempt in well under a second here.
        gateway = SandboxGateway(settings.sandbox_gateway_url, settings.sandbox_gateway_secret, attempts=3,
                                 backoff=0.05, max_backoff=0.2, timeout=(2, 10))
        app = create_app(settings, gateways={"sandbox": gateway})
        server.start(app)
        started.append((server, app))
        return Shop(server.url, sandbox.url, sandbox.secret, app.extensions["tillkey.payments"], SECRET, ADMIN)

    yield make
    for server, app in started:
        server.stop()
        app.extensions["tillkey.payments"].dispatcher.join()
        app.extensions["tillkey.payments"].engine.dispose()


@pytest.fixture
def shop(make_shop):
    return make_shop()


@pytest.fixture
def slow_sandbox(tmp_path, sandbox_gateway):
    """A private sandbox that settles charges after 1.5 s: time to act while a charge is in flight."""
    from ..sandbox.conftest import SandboxProcess

    proc = SandboxProcess(tmp_path, sandbox_gateway.secret, SANDBOX_SETTLE_DELAY="1500ms").start()
    yield proc
    proc.stop()


@pytest.fixture
def slow_shop(make_shop, slow_sandbox):
    return make_shop(sandbox=slow_sandbox)
