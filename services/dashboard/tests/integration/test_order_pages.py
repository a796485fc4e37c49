"""The order page's refund form: checked on the form, sent once with its own Idempotency-Key."""
from __future__ import annotations

import re

import pytest

from .conftest import create_user, sign_in

pytestmark = pytest.mark.integration

ORDER = {"order_id": "ord_1", "status": "paid", "delivery_status": "delivered", "currency": "EUR", "subtotal": 4900,
         "discount": 0, "total": 4900, "refunded_amount": 0, "payment_method": "card", "coupon": None,
         "customer": {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}, "custom": {},
         "lines": [{"line_id": "line_1", "product_id": "prod_1", "name": "Pro", "quantity": 1, "unit_price": 4900,
                    "discount": 0, "total": 4900, "delivery_status": "delivered"}],
         "created_at": "2026-01-02T10:00:00Z", "paid_at": "2026-01-02T10:01:00Z", "delivered_at": None}


@pytest.fixture
def signed_in(app, api):
    api.answers[("orders", "GET", "/v1/orders/ord_1")] = ORDER
    api.answers[("orders", "POST", "/v1/orders/ord_1/refund")] = lambda body: {"refund_id": "re_1", **body}
    client = app.test_client()
    create_user(client)
    sign_in(client)
    return client


def refund_form(client) -> dict:
    html = client.get("/orders/ord_1").get_data(as_text=True)
    return {name: re.search(rf'name="{name}" value="([^"]+)"', html).group(1) for name in ("csrf_token", "refund_key")}


def test_a_partial_refund_is_sent_in_minor_units_with_the_forms_idempotency_key(signed_in, api):
    form = refund_form(signed_in)
    for _ in range(2):       # a double click sends the same form twice: the same key, refunded once by orders
        resp = signed_in.post("/orders/ord_1/refund", data={**form, "amount": "10.50", "reason": "asked"})
        assert resp.status_code == 303 and resp.headers["Location"].endswith("refunded=1#refund")
    posts = [(c, k) for c, k in zip(api.calls, api.idempotency_keys, strict=True) if c[1] == "POST"]
    assert [c[5] for c, _ in posts] == [{"reason": "asked", "amount": 1050}] * 2
    assert posts[0][1] == posts[1][1] == f"dashboard-refund-{form['refund_key']}"


@pytest.mark.parametrize("fields, wrong", [({"amount": "", "reason": ""}, "reason"),
                                           ({"amount": "1.001", "reason": "x"}, "amount"),
                                           ({"amount": "-5", "reason": "x"}, "amount")])
def test_a_wrong_refund_form_is_answered_on_the_page_and_nothing_is_sent(signed_in, api, fields, wrong):
    resp = signed_in.post("/orders/ord_1/refund", data={**refund_form(signed_in), **fields})
    assert resp.status_code == 422 and 'id="refund-error"' in resp.get_data(as_text=True)
    assert [c for c in api.calls if c[1] == "POST"] == []


def test_another_merchants_order_cannot_be_refunded(signed_in, api):
    form = refund_form(signed_in)
    assert signed_in.post("/orders/ord_2/refund", data={**form, "reason": "x"}).status_code == 404
    assert [c for c in api.calls if c[1] == "POST"] == []


def test_a_line_awaiting_the_merchant_is_delivered_by_hand_with_exactly_its_quantity(signed_in, api):
    api.answers[("fulfillment", "GET", "/v1/orders/ord_1/deliveries")] = {"data": [
        {"line_id": "line_1", "product_id": "prod_1", "method": "manual", "status": "awaiting_merchant",
         "reason": "no license source", "licenses": []}]}
    api.answers[("fulfillment", "POST", "/v1/orders/ord_1/lines/line_1/licenses")] = lambda body: {
        "line_id": "line_1", "status": "delivered", "licenses": body["keys"]}
    html = signed_in.get("/orders/ord_1").get_data(as_text=True)
    assert 'action="/orders/ord_1/lines/line_1/licenses"' in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    wrong = signed_in.post("/orders/ord_1/lines/line_1/licenses", data={"csrf_token": token, "keys": "K-1\nK-2"})
    assert wrong.status_code == 422 and "Exactly 1 key(s)" in wrong.get_data(as_text=True)
    assert signed_in.post("/orders/ord_1/lines/line_9/licenses",
                          data={"csrf_token": token, "keys": "K-1"}).status_code == 404
    assert [c for c in api.calls if c[1] == "POST"] == []
    done = signed_in.post("/orders/ord_1/lines/line_1/licenses", data={"csrf_token": token, "keys": " K-1 \n"})
    assert done.status_code == 303 and "delivered=line_1" in done.headers["Location"]
    assert [c[5] for c in api.calls if c[1] == "POST"] == [{"keys": ["K-1"]}]
    assert api.idempotency_keys[-1] == "dashboard-deliver-ord_1-line_1"
