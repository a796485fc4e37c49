"""Integration fixtures: a migrated database (SQLite and PostgreSQL), the app, a delivery worker,
and scripted HTTP receivers playing the merchant's webhook endpoints."""
from __future__ import annotations

import http.server
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select

from tillkey.platform.credentials import make_api_key
from tillkey.platform.runner import migrate
from tillkey.testing.messaging import running
from tillkey.webhooks.adapters.delivery_worker import DeliveryWorker
from tillkey.webhooks.bootstrap import bootstrap
from tillkey.webhooks.config import Settings
from tillkey.webhooks.domain.model import Endpoint
from tillkey.webhooks.entrypoints.app import create_app
from tillkey.webhooks.entrypoints.cli import MIGRATIONS_HOME
from tillkey.webhooks.service_layer import delivering

SECRET = "test-platform-secret"
MERCHANT = "mer_7Yb2kQ9xTz"  # the merchant of the golden samples


def api_key(merchant_id: str = MERCHANT) -> str:
    return make_api_key(SECRET, merchant_id)


def auth(merchant_id: str = MERCHANT) -> dict:
    return {"Authorization": f"Bearer {api_key(merchant_id)}"}


@dataclass
class Reply:
    status: int = 200
    headers: dict = field(default_factory=dict)
    body: str = "ok"
    hang: bool = False        # hold the connection until the receiver is closed
    echo: bool = False        # answer with the request's body (as some receivers do), not `body`


@dataclass
class Hit:
    at: float
    path: str
    headers: dict
    body: str

    @property
    def json(self):
        return json.loads(self.body)


class Receiver:
    """A real HTTP server on a free loopback port; answers from a script, records every request."""

    def __init__(self):
        self.hits: list[Hit] = []
        self.script: list[Reply] = []
        self.default = Reply()
        self.release = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.hits.append(Hit(time.monotonic(), self.path, headers, body))
                reply = receiver.script.pop(0) if receiver.script else receiver.default
                if reply.hang:
                    receiver.release.wait(30)
                    return
                answer = (body if reply.echo else reply.body).encode()
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make() -> Receiver:
        made.append(Receiver())
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def migrated_url(database_url):
    migrate(MIGRATIONS_HOME, database_url)
    return database_url


def make_settings(url: str, **kw) -> Settings:
    base = dict(database_url=url, platform_secret=SECRET, admin_token="test-admin", allow_private_urls=True,
                retry_schedule=(0.2, 0.2), timeout=1.0)
    base.update(kw)
    return Settings(**base)


@pytest.fixture
def settings(migrated_url):
    return make_settings(migrated_url)


@pytest.fixture
def app(settings):
    app = create_app(settings)
    yield app
    app.extensions["tillkey.webhooks"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def service(app):
    return app.extensions["tillkey.webhooks"]


@pytest.fixture
def start_worker():
    """Start a DeliveryWorker for a service (`start_worker(service)`); stopped at the end of the test."""
    stack = []

    def start(svc, **kw):
        worker = DeliveryWorker(svc.handle, svc.sender, svc.clock, schedule=svc.settings.retry_schedule,
                                timeout=svc.settings.timeout, poll_interval=0.05, **kw)
        ctx = running(delivery=worker)
        ctx.__enter__()
        stack.append(ctx)
        return worker

    yield start
    for ctx in reversed(stack):
        ctx.__exit__(None, None, None)


def service_for(settings: Settings):
    return bootstrap(settings)


# Shared by the statement-count tests (test_batched_writes, test_statements_on_the_server).
def add_endpoints(service, *endpoint_ids, merchant=MERCHANT):
    with service.uow_factory() as uow:
        for endpoint_id in endpoint_ids:
            uow.endpoints.add(Endpoint(endpoint_id, merchant, f"https://m.example/{endpoint_id}", ["*"], "whsec_x",
                                       service.clock.now()))
        uow.commit()


@pytest.fixture
def handed(service):
    """The jobs the consumer's transactions hand to this process's worker."""
    jobs: list[delivering.Job] = []
    service.handoff.connect(jobs.extend, timedelta(minutes=1))
    return jobs


def rows(service, table, *order_by):
    with service.engine.connect() as conn:
        return [r._asdict() for r in conn.execute(select(table).order_by(*order_by))]
