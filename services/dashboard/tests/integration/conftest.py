"""A migrated dashboard database (SQLite and PostgreSQL) and the app over it. The services' APIs are
played by an in-process fake here: these tests are about what the dashboard itself owns (accounts,
sessions, CSRF, limits, forms); tests/browser/test_dashboard.py drives it over the real services."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import pytest

from tillkey.dashboard.config import Settings
from tillkey.dashboard.entrypoints.app import create_app
from tillkey.dashboard.entrypoints.cli import MIGRATIONS_HOME
from tillkey.dashboard.service_layer.errors import NotFound
from tillkey.platform.credentials import make_api_key
from tillkey.platform.runner import migrate

SECRET = "test-platform-secret"
ADMIN = "test-admin-token"
PASSWORD = "a long enough password"


@dataclass(frozen=True)
class ByParams:
    """An answer that depends on the query: `answers[...] = ByParams(lambda params: ...)`."""

    answer: object

    def __call__(self, params):
        return self.answer(params or {})


@dataclass
class FakeApi:
    """Records every call; answers from `answers[(service, method, path)]`, else 404. A callable answer
    gets the body (a ByParams one the query); one that raises plays the service refusing."""

    answers: dict = field(default_factory=dict)
    calls: list = field(default_factory=list)
    idempotency_keys: list = field(default_factory=list)

    def call(self, service, method, path, api_key, *, params=None, body=None, idempotency_key=None):
        self.calls.append((service, method, path, api_key, params, body))
        self.idempotency_keys.append(idempotency_key)
        if (service, method, path) not in self.answers:
            raise NotFound(path)
        answer = self.answers[(service, method, path)]
        if isinstance(answer, ByParams):
            return answer(params)
        return answer(body) if callable(answer) else answer


@pytest.fixture
def settings(database_url):
    migrate(MIGRATIONS_HOME, database_url)
    return Settings(database_url=database_url, platform_secret=SECRET, admin_token=ADMIN)


@pytest.fixture
def api():
    return FakeApi()


@pytest.fixture
def make_app(settings, api):
    def make(**changes):
        return create_app(replace(settings, **changes), api=api)
    return make


@pytest.fixture
def app(make_app):
    return make_app()


def create_user(client, email="owner@shop.example", merchant_id="mer_Shop1", password=PASSWORD):
    key = make_api_key(SECRET, merchant_id)
    resp = client.post("/admin/v1/merchant-users", headers={"Authorization": f"Bearer {ADMIN}"},
                       json={"api_key": key, "email": email, "password": password, "merchant_name": "Shop"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return key


def csrf_token(client, path="/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, email="owner@shop.example", password=PASSWORD):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})
