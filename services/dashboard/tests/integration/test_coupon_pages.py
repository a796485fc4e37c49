"""The coupons page: a wrong form is answered on the page with each field's message, nothing sent."""
from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from .conftest import create_user, csrf_token, sign_in

pytestmark = pytest.mark.integration


def test_a_wrong_coupon_form_names_its_fields_and_sends_nothing(app, api):
    api.answers[("orders", "GET", "/v1/coupons")] = {"data": [], "next_cursor": None}
    api.answers[("orders", "GET", "/v1/products")] = {"data": [{"product_id": "prod_1", "name": "Pro"}]}
    client = app.test_client()
    create_user(client)
    sign_in(client)
    resp = client.post("/coupons", data={"csrf_token": csrf_token(client, "/coupons"), "code": "-x", "kind": "percent",
                                         "percent": "120", "product_id": "prod_1"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'id="e-code"' in html and 'id="e-percent"' in html
    assert 'value="prod_1" checked' in html
    assert [c for c in api.calls if c[1] != "GET"] == []


def test_a_coupon_for_two_products_with_amounts_in_two_currencies_reaches_the_api(app, api):
    products = [{"product_id": "prod_1", "name": "Pro"}, {"product_id": "prod_2", "name": "Lite"}]
    api.answers[("orders", "GET", "/v1/products")] = {"data": products}
    api.answers[("orders", "GET", "/v1/coupons")] = {"data": [
        {"code": "TEN", "amount_off": {"EUR": 1000, "USD": 1100}, "percent_off": None, "redemptions": 0,
         "product_ids": ["prod_1", "prod_2"], "active": True}], "next_cursor": None}
    api.answers[("orders", "POST", "/v1/coupons")] = lambda body: body
    client = app.test_client()
    create_user(client)
    sign_in(client)
    form = [("csrf_token", csrf_token(client, "/coupons")), ("code", "TEN"), ("kind", "amount"),
            ("amount", "10.00"), ("currency", "EUR"), ("amount", "11"), ("currency", "usd"), ("amount", ""),
            ("currency", ""), ("product_id", "prod_1"), ("product_id", "prod_2")]
    resp = client.post("/coupons", data=MultiDict(form))
    assert resp.status_code == 303
    assert [c[5] for c in api.calls if c[1] == "POST" and c[2] == "/v1/coupons"] == [
        {"code": "TEN", "amount_off": {"EUR": 1000, "USD": 1100}, "product_ids": ["prod_1", "prod_2"]}]
    listed = client.get("/coupons").get_data(as_text=True)
    assert "Pro, Lite" in listed


def test_a_wrong_amount_row_keeps_every_row_and_tick_on_the_form(app, api):
    api.answers[("orders", "GET", "/v1/coupons")] = {"data": [], "next_cursor": None}
    api.answers[("orders", "GET", "/v1/products")] = {"data": [{"product_id": "prod_1", "name": "Pro"},
                                                               {"product_id": "prod_2", "name": "Lite"}]}
    client = app.test_client()
    create_user(client)
    sign_in(client)
    form = [("csrf_token", csrf_token(client, "/coupons")), ("code", "TEN"), ("kind", "amount"),
            ("amount", "10.00"), ("currency", "EUR"), ("amount", "5.5"), ("currency", "JPY"),
            ("product_id", "prod_2")]
    resp = client.post("/coupons", data=MultiDict(form))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "JPY: " in html
    assert 'id="amount-1" name="amount" inputmode="decimal" size="8" placeholder="5.00" value="5.5"' in html
    assert 'value="prod_2" checked' in html and 'value="prod_1" checked' not in html
    assert [c for c in api.calls if c[1] != "GET"] == []
