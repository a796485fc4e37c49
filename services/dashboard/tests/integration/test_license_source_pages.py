"""The product page's other ways to deliver (web service, email, manual, generated keys): the body
the fulfillment API gets, a web service's secret shown once, and refusals — the dashboard's own and
the API's — answered on the form field by field with nothing changed (docs/dashboard.md)."""
from __future__ import annotations

import re

import pytest

from tillkey.dashboard.service_layer.errors import Rejected

from .conftest import create_user, csrf_token, sign_in

pytestmark = pytest.mark.integration

PRODUCT = {"product_id": "prod_1", "name": "Pro", "prices": {"EUR": 4900}, "default_currency": "EUR",
           "active": True, "checkout_url": "http://127.0.0.1:8001/buy/prod_1"}
SOURCE = ("fulfillment", "PUT", "/v1/products/prod_1/license-source")
SECRET = "whsec_" + "QUJD" * 8


@pytest.fixture
def client(app, api):
    api.answers[("orders", "GET", "/v1/products/prod_1")] = PRODUCT
    api.answers[("fulfillment", "GET", "/v1/products/prod_1/license-source")] = {"configured": False}
    client = app.test_client()
    create_user(client)
    sign_in(client)
    return client


def puts(api) -> list:
    return [c[5] for c in api.calls if c[1] == "PUT"]


def test_a_web_service_without_a_secret_gets_one_made_which_the_answer_shows_once(client, api):
    api.answers[SOURCE] = lambda body: {**body, "configured": True, "secret": SECRET}
    resp = client.post("/products/prod_1/license-source", data={
        "csrf_token": csrf_token(client, "/products/prod_1"), "method": "web_service",
        "url": " https://licenses.shop.example/issue ", "secret": "", "text": "ignored", "prefix": "IGNORED"})
    assert resp.status_code == 200
    assert puts(api) == [{"method": "web_service", "url": "https://licenses.shop.example/issue"}]
    assert 'id="source-secret" value="' + SECRET + '"' in resp.get_data(as_text=True)
    api.answers[("fulfillment", "GET", "/v1/products/prod_1/license-source")] = {
        "configured": True, "method": "web_service", "url": "https://licenses.shop.example/issue"}
    again = client.get("/products/prod_1").get_data(as_text=True)
    assert SECRET not in again and "https://licenses.shop.example/issue" in again


def test_generated_keys_with_their_limits_and_an_email_and_manual_delivery_reach_the_api(client, api):
    api.answers[SOURCE] = lambda body: {**body, "configured": True}
    token = csrf_token(client, "/products/prod_1")
    for form in ({"method": "generated", "prefix": "pro", "activation_limit": "3", "valid_days": "", "url": "x"},
                 {"method": "email", "text": "  Your access is on its way.  "},
                 {"method": "manual", "url": "https://ignored.example"}):
        resp = client.post("/products/prod_1/license-source", data={"csrf_token": token, **form})
        assert resp.status_code == 303 and resp.headers["Location"].endswith("saved=source#pool")
    assert puts(api) == [
        {"method": "generated", "prefix": "PRO", "activation_limit": 3, "valid_days": None, "revoke_on_refund": False},
        {"method": "email", "text": "Your access is on its way."},
        {"method": "manual"}]


def test_the_apis_refusal_is_shown_at_its_fields_with_what_was_typed(client, api):
    def refuse(body):
        raise Rejected("The request body is not valid.", {"url": ["Not a public https URL."],
                                                          "secret": ["The secret is whsec_ then the base64 of …"]})
    api.answers[SOURCE] = refuse
    resp = client.post("/products/prod_1/license-source", data={
        "csrf_token": csrf_token(client, "/products/prod_1"), "method": "web_service",
        "url": "http://10.0.0.1/x", "secret": "nope"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'id="source-error"' in html and "The request body is not valid." in html
    assert '<p class="error" id="e-url">Not a public https URL.</p>' in html and 'id="e-secret"' in html
    assert 'value="http://10.0.0.1/x"' in html and 'value="web_service" checked' in html


@pytest.mark.parametrize("form, field", [
    ({"method": "generated", "activation_limit": "many"}, "activation_limit"),
    ({"method": "generated", "valid_days": "0"}, "valid_days"),
    ({"method": "generated", "valid_days": "36501"}, "valid_days"),
    ({"method": "pool"}, "method"), ({}, "method")])
def test_a_wrong_form_is_answered_on_it_and_nothing_is_sent(client, api, form, field):
    resp = client.post("/products/prod_1/license-source",
                       data={"csrf_token": csrf_token(client, "/products/prod_1"), **form})
    assert resp.status_code == 422 and f'id="e-{field}"' in resp.get_data(as_text=True)
    assert puts(api) == []


def test_another_merchants_product_is_a_404_and_a_form_without_its_token_a_400(client, api):
    token = csrf_token(client, "/products/prod_1")
    assert client.post("/products/prod_other/license-source",
                       data={"csrf_token": token, "method": "manual"}).status_code == 404
    assert client.post("/products/prod_1/license-source", data={"method": "manual"}).status_code == 400
    assert puts(api) == []


def test_the_current_generated_source_and_its_public_key_are_on_the_page(client, api):
    api.answers[("fulfillment", "GET", "/v1/products/prod_1/license-source")] = {
        "configured": True, "method": "generated", "prefix": "PRO", "activation_limit": None, "valid_days": 365,
        "revoke_on_refund": True, "public_key": "-----BEGIN PUBLIC KEY-----\nMCow\n-----END PUBLIC KEY-----"}
    html = client.get("/products/prod_1").get_data(as_text=True)
    assert "keys made and signed by Tillkey" in html and "365 days from purchase" in html
    assert "BEGIN PUBLIC KEY" in html and 'value="generated" checked' in html
    assert re.search(r'id="src-revoke"\s+checked>', html) and 'value="365"' in html
