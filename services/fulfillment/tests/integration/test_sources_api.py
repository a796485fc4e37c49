"""License sources over the HTTP API, on SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest

from tillkey.fulfillment.config import Settings
from tillkey.fulfillment.entrypoints.app import create_app
from tillkey.testing.receiver import Receiver

from .conftest import ADMIN, MERCHANT, bearer, know_product, merchant_headers

pytestmark = pytest.mark.integration
PRODUCT = "prod_src1"
URL = f"/v1/products/{PRODUCT}/license-source"


@pytest.fixture
def known(service):
    know_product(service, PRODUCT)


def put(client, body, headers=None):
    return client.put(URL, json=body, headers=headers or merchant_headers())


def test_no_source_means_manual(client, known):
    resp = client.get(URL, headers=merchant_headers())
    assert resp.status_code == 200
    assert resp.get_json() == {"product_id": PRODUCT, "method": "manual", "configured": False, "updated_at": None}


def test_web_service_without_secret_gets_one_shown_once(client, known):
    resp = put(client, {"method": "web_service", "url": "https://licenses.example.com/issue"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["method"] == "web_service" and body["url"] == "https://licenses.example.com/issue"
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    again = client.get(URL, headers=merchant_headers()).get_json()
    assert "secret" not in again and again["url"] == body["url"] and again["configured"] is True
    assert again["updated_at"].endswith("Z")


def test_web_service_with_own_secret_never_echoes_it(client, known):
    secret = "whsec_" + "A" * 40
    resp = put(client, {"method": "web_service", "url": "https://licenses.example.com/", "secret": secret})
    assert resp.status_code == 200 and "secret" not in resp.get_json()


def test_pool_email_manual_and_replacement(client, known):
    pool = put(client, {"method": "pool", "low_stock_threshold": 3}).get_json()
    assert (pool["method"], pool["low_stock_threshold"]) == ("pool", 3)
    assert put(client, {"method": "pool"}).get_json()["low_stock_threshold"] == 10  # the default
    email = put(client, {"method": "email", "text": "Your download link: https://x.example/dl"}).get_json()
    assert email["text"].startswith("Your download") and "low_stock_threshold" not in email
    manual = put(client, {"method": "manual"}).get_json()
    assert manual["method"] == "manual" and "text" not in manual and manual["configured"] is True


@pytest.mark.parametrize("body, field", [
    ({}, "method"),
    ({"method": "carrier_pigeon"}, "method"),
    ({"method": "web_service"}, "url"),
    ({"method": "web_service", "url": "ftp://x.example/"}, "url"),
    ({"method": "web_service", "url": "https://x.example/", "secret": "plain-text"}, "secret"),
    ({"method": "web_service", "url": "https://x.example/", "secret": "whsec_c2hvcnQ="}, "secret"),
    ({"method": "email"}, "text"),
    ({"method": "email", "text": ""}, "text"),
    ({"method": "pool", "low_stock_threshold": -1}, "low_stock_threshold"),
    ({"method": "pool", "low_stock_threshold": "5"}, "low_stock_threshold"),
    ({"method": "manual", "url": "https://x.example/"}, "url"),
    ({"method": "pool", "text": "hi"}, "text"),
    ({"method": "manual", "colour": "red"}, "colour"),
])
def test_bad_sources_are_422_and_change_nothing(client, known, body, field):
    put(client, {"method": "email", "text": "before"})
    resp = put(client, body)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert field in resp.get_json()["errors"], resp.get_json()
    assert client.get(URL, headers=merchant_headers()).get_json()["text"] == "before"


def test_private_urls_are_refused_unless_allowed(settings, known):
    app = create_app(Settings(**{**settings.__dict__, "allow_private_urls": False}))
    try:
        know_product(app.extensions["tillkey.fulfillment"], PRODUCT)
        resp = put(app.test_client(), {"method": "web_service", "url": "http://127.0.0.1:9/licenses"})
        assert resp.status_code == 422 and "loopback" in resp.get_json()["errors"]["url"][0]
    finally:
        app.extensions["tillkey.fulfillment"].engine.dispose()


def test_auth_and_ownership(client, known):
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers=bearer(ADMIN)).status_code == 403
    assert client.get(URL, headers=merchant_headers("mer_someoneElse1")).status_code == 404
    assert put(client, {"method": "manual"}, merchant_headers("mer_someoneElse1")).status_code == 404
    assert client.get("/v1/products/not-an-id/license-source", headers=merchant_headers()).status_code == 404


def orders_answering(status, body):
    def respond(req):
        return status, {"Content-Type": "application/json"}, json.dumps(body).encode()
    return Receiver(respond)


def app_asking(settings, orders_url):
    return create_app(Settings(**{**settings.__dict__, "orders_internal_url": orders_url}))


def test_an_unknown_product_is_looked_up_at_orders_with_the_merchants_key(settings):
    product = {"product_id": "prod_new1", "merchant_id": MERCHANT, "name": "New", "active": True,
               "created_at": "2026-11-27T09:00:00.000Z", "updated_at": "2026-11-27T09:00:00.000Z"}
    headers = merchant_headers()
    with orders_answering(200, product) as orders:
        app = app_asking(settings, orders.url)
        client = app.test_client()
        resp = client.put("/v1/products/prod_new1/license-source", json={"method": "manual"}, headers=headers)
        assert resp.status_code == 200, resp.get_json()
        [lookup] = orders.snapshot()
        assert (lookup.method, lookup.path) == ("GET", "/v1/products/prod_new1")
        assert lookup.headers["authorization"] == headers["Authorization"]
        # Learned: the next call needs no lookup.
        assert client.get("/v1/products/prod_new1/license-source", headers=headers).status_code == 200
        assert len(orders.snapshot()) == 1
    app.extensions["tillkey.fulfillment"].engine.dispose()


def test_a_product_orders_does_not_show_this_merchant_is_404(settings):
    with orders_answering(404, {"code": "not_found"}) as orders:
        app = app_asking(settings, orders.url)
        resp = app.test_client().get("/v1/products/prod_theirs1/license-source", headers=merchant_headers())
        assert resp.status_code == 404 and len(orders.snapshot()) == 1
    app.extensions["tillkey.fulfillment"].engine.dispose()


def test_orders_down_is_503_with_retry_after(settings):
    app = app_asking(settings, "http://127.0.0.1:1")
    resp = app.test_client().get("/v1/products/prod_new1/license-source", headers=merchant_headers())
    assert resp.status_code == 503 and resp.headers["Retry-After"] and resp.get_json()["code"] == "unavailable"
    app.extensions["tillkey.fulfillment"].engine.dispose()


def test_openapi_lists_the_calls(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    for path in ("/v1/products/{product_id}/license-source", "/v1/products/{product_id}/licenses",
                 "/v1/products/{product_id}/licenses/stats", "/v1/orders/{order_id}/lines/{line_id}/licenses"):
        assert path in paths
    assert set(paths["/v1/products/{product_id}/license-source"]) == {"get", "put"}
