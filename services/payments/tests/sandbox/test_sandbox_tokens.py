"""Tokenization: card checks, problem+json errors, CORS for the payment page's script."""
from __future__ import annotations

import datetime as dt

import pytest
import requests

pytestmark = pytest.mark.integration


def _post(sandbox, **body):
    card = {"number": "4242424242424242", "exp_month": 12, "exp_year": dt.date.today().year + 2, "cvc": "123"}
    return requests.post(sandbox.url + "/v1/tokens", json={**card, **body}, timeout=5,
                         headers={"Origin": "https://shop.example"})


def test_a_valid_card_gets_a_token_with_brand_and_last4_only(sandbox):
    resp = _post(sandbox, number="4242 4242 4242 4242", exp_year=dt.date.today().year % 100 + 2, exp_month="7")
    assert resp.status_code == 201
    body = resp.json()
    assert body["payment_token"].startswith("tok_") and len(body["payment_token"]) >= 4 + 32
    assert (body["brand"], body["last4"], body["exp_month"]) == ("visa", "4242", 7)
    assert body["exp_year"] == dt.date.today().year + 2
    assert "number" not in body and "cvc" not in body
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


def test_a_number_failing_luhn_is_422_on_number_without_echoing_it(sandbox):
    resp = _post(sandbox, number="4242424242424241")
    assert resp.status_code == 422
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert resp.json()["code"] == "validation_error"
    assert list(resp.json()["errors"]) == ["number"]
    assert "4242424242424241" not in resp.text
    assert resp.headers["Access-Control-Allow-Origin"] == "*"  # the page's script can read the error


@pytest.mark.parametrize("fields, bad", [
    ({"number": "4242"}, "number"),
    ({"number": "42424242424242424242"}, "number"),
    ({"number": "abcd abcd abcd abcd"}, "number"),
    ({"number": 4242424242424242}, "number"),
    ({"exp_month": 13}, "exp_month"),
    ({"exp_month": 0}, "exp_month"),
    ({"exp_year": "soon"}, "exp_year"),
    ({"cvc": "12"}, "cvc"),
    ({"cvc": "12345"}, "cvc"),
    ({"cvc": 123}, "cvc"),
])
def test_each_bad_field_is_named(sandbox, fields, bad):
    resp = _post(sandbox, **fields)
    assert resp.status_code == 422, resp.text
    assert list(resp.json()["errors"]) == [bad]


def test_an_expired_card_is_refused_and_this_month_is_still_valid(sandbox):
    today = dt.date.today()
    last_month = (today.replace(day=1) - dt.timedelta(days=1))
    expired = _post(sandbox, exp_month=last_month.month, exp_year=last_month.year)
    assert expired.status_code == 422
    assert expired.json()["errors"] == {"exp_year": ["The card has expired."]}
    assert _post(sandbox, exp_month=today.month, exp_year=today.year).status_code == 201


def test_missing_fields_and_a_body_that_is_not_an_object(sandbox):
    resp = requests.post(sandbox.url + "/v1/tokens", json={}, timeout=5)
    assert resp.status_code == 422
    assert set(resp.json()["errors"]) == {"number", "exp_month", "exp_year", "cvc"}
    junk = requests.post(sandbox.url + "/v1/tokens", data=b"not json", timeout=5)
    assert junk.status_code == 400
    assert junk.json()["code"] == "bad_request"


def test_cors_preflight_is_answered_for_any_origin(sandbox):
    resp = requests.options(sandbox.url + "/v1/tokens", timeout=5, headers={
        "Origin": "http://127.0.0.1:8002", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert resp.status_code == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    assert "content-type" in resp.headers["Access-Control-Allow-Headers"].lower()


def test_charges_are_not_open_to_browsers(sandbox):
    resp = requests.post(sandbox.url + "/v1/charges", json={}, headers={"Origin": "https://evil.example"}, timeout=5)
    assert "Access-Control-Allow-Origin" not in resp.headers


def test_healthz_and_unknown_paths(sandbox):
    assert requests.get(sandbox.url + "/healthz", timeout=5).json() == {"status": "ok"}
    missing = requests.get(sandbox.url + "/v1/nothing", timeout=5)
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert requests.get(sandbox.url + "/v1/tokens", timeout=5).status_code == 405
