"""The orders search and the order page: its emails and webhooks, and its forms (refund, resend, deliver by
hand) checked on the form and sent once with their own Idempotency-Key."""
from __future__ import annotations

import re

import pytest

from tillkey.dashboard.service_layer.errors import Rejected, Unavailable

from .conftest import ByParams, create_user, sign_in

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


# -- search, emails and webhooks of the order, resend ----------------------------------------------------
def test_the_orders_search_asks_the_orders_api_by_email_status_and_days(signed_in, api):
    api.answers[("orders", "GET", "/v1/orders")] = ByParams(
        lambda params: {"data": [ORDER] if params.get("email") == "ada@example.com" else [], "next_cursor": "c2"})
    resp = signed_in.get("/orders?q=ada@example.com&status=paid&created_from=2026-01-01&created_to=2026-01-31")
    assert resp.status_code == 200 and 'data-order-id="ord_1"' in resp.get_data(as_text=True)
    assert api.calls[-1][4] == {"limit": 50, "email": "ada@example.com", "status": "paid",
                                "created_from": "2026-01-01", "created_to": "2026-01-31"}
    # The next page keeps the search.
    older = re.search(r'href="(/orders\?[^"]*cursor=c2[^"]*)"', resp.get_data(as_text=True)).group(1)
    signed_in.get(older.replace("&amp;", "&"))
    assert api.calls[-1][4]["email"] == "ada@example.com" and api.calls[-1][4]["cursor"] == "c2"
    assert 'id="no-orders"' in signed_in.get("/orders?q=bob@example.com").get_data(as_text=True)


@pytest.mark.parametrize("query, field", [("q=ada", "q"), ("created_from=01/02/2026", "created_from"),
                                          ("created_to=2026-02-30", "created_to"),
                                          ("created_from=2026-02-02&created_to=2026-02-01", "created_to")])
def test_a_wrong_search_is_answered_on_the_page_and_nothing_is_asked(signed_in, api, query, field):
    resp = signed_in.get(f"/orders?{query}")
    assert resp.status_code == 422 and 'id="search-error"' in resp.get_data(as_text=True)
    assert [c for c in api.calls if c[2] == "/v1/orders"] == []


def test_the_order_page_shows_its_emails_and_exactly_its_webhooks(signed_in, api):
    api.answers[("notifications", "GET", "/v1/messages")] = ByParams(lambda params: {"data": [
        {"message_id": "msg_1", "to": "ada@example.com", "template": "license_delivery", "subject": "Your keys",
         "order_id": params["order_id"], "status": "failed", "attempts": 3, "last_error": "mailbox full",
         "created_at": "2026-01-02T10:02:00Z", "sent_at": None}], "next_cursor": None})
    api.answers[("webhooks", "GET", "/v1/webhook-deliveries")] = ByParams(lambda params: {"data": [
        {"delivery_id": "whd_1", "event_type": "payment.succeeded", "status": "succeeded", "attempts": [
            {"attempted_at": "2026-01-02T10:01:01Z", "response_status": 200}]}]
        if params.get("order_id") == "ord_1" else [], "next_cursor": None})
    html = signed_in.get("/orders/ord_1").get_data(as_text=True)
    emails = html[html.index('id="emails"'):html.index('id="webhooks"')]
    assert "license delivery to ada@example.com" in emails and "3 attempt(s): mailbox full" in emails
    assert 'data-delivery-id="whd_1"' in html
    asked = {c[0]: c[4] for c in api.calls if c[0] in ("notifications", "webhooks")}
    assert asked == {"notifications": {"order_id": "ord_1", "limit": 100},
                     "webhooks": {"order_id": "ord_1", "limit": 100}}


def test_resend_licenses_is_sent_once_per_form_and_never_for_another_merchants_order(signed_in, api):
    api.answers[("orders", "POST", "/v1/orders/ord_1/resend-licenses")] = lambda body: {
        "order_id": "ord_1", "status": "pending", "lines": 1}
    html = signed_in.get("/orders/ord_1").get_data(as_text=True)
    form = {n: re.search(rf'name="{n}" value="([^"]+)"', html).group(1) for n in ("csrf_token", "resend_key")}
    assert signed_in.post("/orders/ord_2/resend-licenses", data=form).status_code == 404
    assert signed_in.post("/orders/ord_1/resend-licenses", data={**form, "resend_key": "x"}).status_code == 422
    assert signed_in.post("/orders/ord_1/resend-licenses", data={"resend_key": form["resend_key"]}).status_code == 400
    assert [c for c in api.calls if c[1] == "POST"] == []
    for _ in range(2):
        done = signed_in.post("/orders/ord_1/resend-licenses", data=form)
        assert done.status_code == 303 and done.headers["Location"].endswith("resent=1#resend")
    posted = [k for c, k in zip(api.calls, api.idempotency_keys, strict=True) if c[1] == "POST"]
    assert posted == [f"dashboard-resend-{form['resend_key']}"] * 2
    assert 'id="resend-started"' in signed_in.get("/orders/ord_1?resent=1").get_data(as_text=True)


def test_a_refused_resend_is_told_on_the_page(signed_in, api):
    def refuse(body):
        raise Rejected("Nothing has been delivered yet.")
    api.answers[("orders", "POST", "/v1/orders/ord_1/resend-licenses")] = refuse
    html = signed_in.get("/orders/ord_1").get_data(as_text=True)
    form = {n: re.search(rf'name="{n}" value="([^"]+)"', html).group(1) for n in ("csrf_token", "resend_key")}
    resp = signed_in.post("/orders/ord_1/resend-licenses", data=form)
    assert resp.status_code == 422 and "Nothing has been delivered yet." in resp.get_data(as_text=True)


def test_emails_and_webhooks_not_taken_in_yet_are_none_yet_and_a_service_down_is_said(signed_in, api):
    def down(params):
        raise Unavailable("webhooks")
    html = signed_in.get("/orders/ord_1").get_data(as_text=True)       # both services answer 404 (the fake)
    assert "No emails about this order yet." in html and "No webhooks for this order." in html
    api.answers[("webhooks", "GET", "/v1/webhook-deliveries")] = ByParams(down)
    html = signed_in.get("/orders/ord_1").get_data(as_text=True)
    assert "The webhooks could not be loaded just now." in html and "No emails about this order yet." in html
