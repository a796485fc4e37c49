"""The product form's refusals: a wrong price is answered on the form (422) and nothing reaches the
orders API; the merchant's key goes to the API and never to the browser."""
from __future__ import annotations

import io
import re

import pytest

from tillkey.dashboard.service_layer.errors import Unavailable

from .conftest import create_user, csrf_token, sign_in

pytestmark = pytest.mark.integration

PRODUCT = {"product_id": "prod_1", "name": "Pro", "prices": {"EUR": 4900}, "default_currency": "EUR",
           "active": True, "checkout_url": "http://127.0.0.1:8001/buy/prod_1"}


def test_a_wrong_price_is_answered_on_the_form_and_nothing_is_sent(app, api):
    client = app.test_client()
    create_user(client)
    sign_in(client)
    resp = client.post("/products/new", data={"csrf_token": csrf_token(client, "/products/new"), "name": "Pro",
                                               "currency_0": "JPY", "amount_0": "7.5"})
    assert resp.status_code == 422 and "JPY has 0 decimals" in resp.get_data(as_text=True)
    assert [c for c in api.calls if c[1] != "GET"] == []


def test_created_products_go_to_the_orders_api_with_the_kept_key_which_no_page_shows(app, api):
    client = app.test_client()
    key = create_user(client)
    sign_in(client)
    api.answers[("orders", "POST", "/v1/products")] = lambda body: {**PRODUCT, **body}
    api.answers[("orders", "GET", "/v1/products/prod_1")] = PRODUCT
    api.answers[("orders", "GET", "/v1/products")] = {"data": [PRODUCT], "next_cursor": None}
    resp = client.post("/products/new", data={"csrf_token": csrf_token(client, "/products/new"), "name": "Pro",
                                               "currency_0": "EUR", "amount_0": "49.00", "active": "on"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/products/prod_1?saved=created")
    service, method, path, used_key, _, body = api.calls[-1]
    assert (service, method, path, used_key) == ("orders", "POST", "/v1/products", key)
    assert body == {"name": "Pro", "prices": {"EUR": 4900}, "default_currency": "EUR", "active": True}
    for page in ("/products", "/products/prod_1"):
        html = client.get(page).get_data(as_text=True)
        assert PRODUCT["checkout_url"] in html and key not in html and key.split(".")[1] not in html
    assert re.search(r'data-copy="checkout-link"', client.get("/products/prod_1").get_data(as_text=True))


def test_an_unknown_product_or_order_is_a_404_page(app):
    client = app.test_client()
    create_user(client)
    sign_in(client)
    for path in ("/products/prod_nope", "/orders/ord_nope", "/orders/not-an-id"):
        resp = client.get(path)
        assert resp.status_code == 404 and resp.headers["Content-Type"].startswith("text/html"), path


def test_keys_for_a_product_the_merchant_does_not_have_are_a_404_and_nothing_is_sent(app, api):
    client = app.test_client()
    create_user(client)
    sign_in(client)
    token = csrf_token(client, "/products/new")
    for path, data in (("/products/prod_other/pool", {"low_stock_threshold": "3"}),
                       ("/products/prod_other/keys", {"keys": "K-1"})):
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 404
        assert client.post(path.replace("prod_other", "prod_1"), data=data).status_code == 400   # no CSRF token
    assert [c for c in api.calls if c[1] != "GET"] == []


def test_pasted_keys_and_a_csv_file_reach_the_pool(app, api):
    client = app.test_client()
    create_user(client)
    sign_in(client)
    api.answers[("orders", "GET", "/v1/products/prod_1")] = PRODUCT
    api.answers[("fulfillment", "POST", "/v1/products/prod_1/licenses")] = lambda body: {
        "added": len(body["keys"]), "duplicates": 0, "available": len(body["keys"])}
    resp = client.post("/products/prod_1/keys", content_type="multipart/form-data",
                       data={"csrf_token": csrf_token(client, "/products/new"), "keys": "P-1\nP-2",
                             "file": (io.BytesIO(b"license_key\nC-1\n"), "keys.csv")})
    assert resp.status_code == 303 and "added=3" in resp.headers["Location"]
    assert api.calls[-1][5] == {"keys": ["P-1", "P-2", "C-1"]}



def test_an_upload_failing_half_way_says_on_the_page_which_keys_are_in_the_pool(app, api):
    client = app.test_client()
    create_user(client)
    sign_in(client)
    api.answers[("orders", "GET", "/v1/products/prod_1")] = PRODUCT
    api.answers[("fulfillment", "GET", "/v1/products/prod_1/license-source")] = {"configured": True, "method": "pool"}
    api.answers[("fulfillment", "GET", "/v1/products/prod_1/licenses/stats")] = {"available": 1000, "issued": 0}
    sent = []

    def licenses(body):
        if sent:
            raise Unavailable("fulfillment")
        sent.append(body)
        return {"added": len(body["keys"]), "duplicates": 0, "available": len(body["keys"])}
    api.answers[("fulfillment", "POST", "/v1/products/prod_1/licenses")] = licenses
    resp = client.post("/products/prod_1/keys", data={"csrf_token": csrf_token(client, "/products/new"),
                                                      "keys": "\n".join(f"K-{i}" for i in range(1500))})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "The fulfillment service did not answer. Keys 1 to 1000 were sent before it (1000 added" in html
    assert "from key 1001 on, nothing was added" in html

def test_an_id_that_could_change_the_apis_path_is_a_404_without_a_call(app, api):
    client = app.test_client()
    create_user(client)
    sign_in(client)
    for path in ("/products/..", "/products/a.b", "/products/%2E%2E"):
        assert client.get(path).status_code == 404, path
    assert [c for c in api.calls if c[2].startswith("/v1/products/")] == []
