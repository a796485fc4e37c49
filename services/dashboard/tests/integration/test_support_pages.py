"""The support console: its own sign-in with the admin credential, actions sent with it and recorded
with who and why; a merchant's sign-in opens nothing there, and the console opens no merchant page."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, select

from tillkey.dashboard.adapters import tables
from tillkey.platform.clock import FixedClock

from .conftest import ADMIN, ByParams, create_user, csrf_token, sign_in

pytestmark = pytest.mark.integration

ORDER = {"order_id": "ord_1", "merchant_id": "mer_Shop1", "status": "not_paid", "delivery_status": "not_delivered",
         "currency": "EUR", "subtotal": 4900, "discount": 0, "total": 4900, "refunded_amount": 0,
         "payment_method": "bank_transfer", "coupon": None, "custom": {},
         "customer": {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"},
         "lines": [{"line_id": "line_1", "product_id": "prod_1", "name": "Pro", "quantity": 1, "unit_price": 4900,
                    "discount": 0, "total": 4900, "delivery_status": "pending"}],
         "created_at": "2026-01-02T10:00:00Z", "paid_at": None, "delivered_at": None}


def support_sign_in(client, token=ADMIN, name="Sam Support"):
    return client.post("/support/login", data={"csrf_token": csrf_token(client, "/support/login"),
                                               "admin_token": token, "name": name})


@pytest.fixture
def support(app, api):
    api.answers[("orders", "GET", "/v1/orders/ord_1")] = ORDER
    api.answers[("orders", "POST", "/v1/orders/ord_1/cancel")] = lambda body: {**ORDER, "status": "canceled"}
    client = app.test_client()
    assert support_sign_in(client).status_code == 303
    return client


def test_a_wrong_credential_or_no_name_signs_nobody_in(app, database_url):
    client = app.test_client()
    assert support_sign_in(client, token="not-the-token").status_code == 401
    assert support_sign_in(client, name="  ").status_code == 422
    assert client.get("/support/orders/ord_1").status_code == 302
    with create_engine(database_url).connect() as conn:
        assert conn.execute(select(tables.support_sessions)).all() == []


def test_cancel_is_sent_with_the_admin_credential_and_recorded_with_who_and_why(support, api, database_url):
    html = support.get("/support/orders/ord_1").get_data(as_text=True)
    form = {n: re.search(rf'name="{n}" value="([^"]+)"', html).group(1) for n in ("csrf_token", "form_key")}
    assert support.post("/support/orders/ord_1/cancel", data={**form, "reason": " "}).status_code == 422
    assert [c for c in api.calls if c[1] == "POST"] == []
    done = support.post("/support/orders/ord_1/cancel", data={**form, "reason": "customer asked by phone"})
    assert done.status_code == 303
    posted = [c for c in api.calls if c[1] == "POST"]
    assert [(c[2], c[3], c[5]) for c in posted] == [("/v1/orders/ord_1/cancel", ADMIN,
                                                     {"reason": "customer asked by phone"})]
    page = support.get("/support/orders/ord_1").get_data(as_text=True)
    assert "cancel by <strong>Sam Support</strong>: customer asked by phone" in page
    with create_engine(database_url).connect() as conn:
        assert conn.execute(select(tables.support_actions.c.who, tables.support_actions.c.action)).all() == [
            ("Sam Support", "cancel")]


def test_an_unknown_action_or_a_form_without_its_token_changes_nothing(support, api):
    html = support.get("/support/orders/ord_1").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert support.post("/support/orders/ord_1/delete", data={"csrf_token": token, "reason": "x"}).status_code == 422
    assert support.post("/support/orders/ord_1/cancel", data={"reason": "x"}).status_code == 400
    assert [c for c in api.calls if c[1] == "POST"] == []


def test_a_merchant_sign_in_opens_no_support_page_and_support_opens_no_merchant_page(app, support):
    merchant = app.test_client()
    create_user(merchant)
    sign_in(merchant)
    assert merchant.get("/support/orders/ord_1").status_code == 302
    assert support.get("/orders").status_code == 302
    assert support.post("/support/logout", data={"csrf_token": csrf_token(support, "/support")}).status_code == 303
    assert support.get("/support/orders/ord_1").status_code == 302


def test_only_this_orders_pending_transfer_is_confirmed_and_it_is_recorded(support, api):
    api.answers[("payments", "GET", "/v1/orders/ord_1/payments")] = {"data": [
        {"payment_id": "pay_1", "method": "bank_transfer", "status": "pending", "amount": 4900, "currency": "EUR",
         "instructions": {"reference": "TK-ABCD-1234"}, "refunds": []}]}
    api.answers[("payments", "POST", "/v1/payments/pay_1/confirm")] = {"payment_id": "pay_1", "status": "succeeded"}
    html = support.get("/support/orders/ord_1").get_data(as_text=True)
    assert "TK-ABCD-1234" in html and 'action="/support/orders/ord_1/confirm/payment/pay_1"' in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    other = support.post("/support/orders/ord_1/confirm/payment/pay_other", data={"csrf_token": token,
                                                                                 "reason": "statement 12"})
    assert other.status_code == 404
    no_reason = support.post("/support/orders/ord_1/confirm/payment/pay_1", data={"csrf_token": token})
    assert no_reason.status_code == 422
    assert [c for c in api.calls if c[1] == "POST"] == []
    done = support.post("/support/orders/ord_1/confirm/payment/pay_1", data={"csrf_token": token,
                                                                            "reason": "statement line 12"})
    assert done.status_code == 303
    assert [(c[2], c[3]) for c in api.calls if c[1] == "POST"] == [("/v1/payments/pay_1/confirm", ADMIN)]
    assert "confirm payment by <strong>Sam Support</strong>: pay_1: statement line 12" in \
        support.get("/support/orders/ord_1").get_data(as_text=True)


def test_a_support_session_ends_at_its_lifetime_and_the_next_sign_in_deletes_it(make_app, api, database_url):
    app = make_app(session_lifetime=600.0)
    clock = app.extensions["tillkey.dashboard"].clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    api.answers[("orders", "GET", "/v1/orders/ord_1")] = ORDER
    first = app.test_client()
    support_sign_in(first)
    assert first.get("/support/orders/ord_1").status_code == 200
    clock.advance(minutes=10)
    assert first.get("/support/orders/ord_1").status_code == 302
    support_sign_in(app.test_client(), name="Kim Support")
    with create_engine(database_url).connect() as conn:
        assert conn.execute(select(tables.support_sessions.c.name)).scalars().all() == ["Kim Support"]


# -- finding an order by the customer's email, a bank transfer by its reference ---------------------------
def test_support_finds_the_orders_of_a_customer_email_across_merchants(support, api):
    other = {**ORDER, "order_id": "ord_2", "merchant_id": "mer_Other1"}
    api.answers[("orders", "GET", "/v1/orders")] = ByParams(
        lambda params: {"data": [other, ORDER] if params.get("email") == "Ada@Example.com" else [],
                        "next_cursor": None})
    html = support.get("/support?q=+Ada@Example.com+").get_data(as_text=True)
    assert 'href="/support/orders/ord_2"' in html and 'href="/support/orders/ord_1"' in html
    assert "mer_Other1" in html
    service, method, path, credential, params, _ = api.calls[-1]
    assert (service, path, credential, params) == ("orders", "/v1/orders", ADMIN,
                                                   {"limit": 50, "email": "Ada@Example.com"})
    assert 'id="no-orders"' in support.get("/support?q=nobody@example.com").get_data(as_text=True)


def test_support_finds_a_bank_transfer_by_its_reference_alone(support, api):
    api.answers[("orders", "GET", "/v1/orders/ord_1")] = ORDER
    api.answers[("payments", "GET", "/v1/orders/ord_1/payments")] = {"data": [
        {"payment_id": "pay_1", "method": "bank_transfer", "status": "awaiting_funds", "amount": 4900,
         "currency": "EUR", "instructions": {"reference": "TK-7QX2-M4PA"}, "refunds": []}]}
    api.answers[("payments", "GET", "/v1/bank-transfers/TK-7QX2-M4PA")] = {
        "payment_id": "pay_1", "order_id": "ord_1", "status": "awaiting_funds"}
    resp = support.get("/support?q=TK 7QX2 M4PA")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/support/orders/ord_1?payment=pay_1#payments"
    assert api.calls[-1][3] == ADMIN
    page = support.get("/support/orders/ord_1?payment=pay_1").get_data(as_text=True)
    assert 'id="found-payment"' in page and 'data-payment-id="pay_1"' in page       # its confirm form is there
    unknown = support.get("/support?q=TK-2222-2222")
    assert unknown.status_code == 404 and "No bank transfer has this reference." in unknown.get_data(as_text=True)


@pytest.mark.parametrize("query", ["ada", "TK-7QX2/../../v1/orders", "12345"])
def test_a_search_support_cannot_make_says_so_and_asks_nothing(support, api, query):
    resp = support.get("/support", query_string={"q": query})
    assert resp.status_code in (404, 422) and 'id="search-note"' in resp.get_data(as_text=True)
    assert [c for c in api.calls if c[2] in ("/v1/orders",) or c[2].startswith("/v1/bank-transfers")] == []


def test_the_support_order_page_lists_its_emails_failed_ones_with_their_error(support, api):
    api.answers[("notifications", "GET", "/v1/messages")] = ByParams(lambda params: {"data": [
        {"message_id": "msg_1", "to": "ada@example.com", "template": "payment_instructions", "subject": "Pay",
         "order_id": params["order_id"], "status": "failed", "attempts": 5, "last_error": "550 no such user",
         "created_at": "2026-01-02T10:02:00Z", "sent_at": None}], "next_cursor": None})
    html = support.get("/support/orders/ord_1").get_data(as_text=True)
    assert "payment instructions to ada@example.com" in html and "5 attempt(s): 550 no such user" in html
    assert [(c[0], c[3], c[4]) for c in api.calls if c[0] == "notifications"] == [
        ("notifications", ADMIN, {"order_id": "ord_1", "limit": 100})]
