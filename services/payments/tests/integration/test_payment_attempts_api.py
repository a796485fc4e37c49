"""POST /v1/orders/{id}/payments and POST /v1/payments/{id}/confirm at the HTTP edge (SQLite and PostgreSQL).

Bank transfers and refusals need no gateway; card payments are in test_card_payments.py.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tillkey.payments.adapters import tables
from tillkey.platform import credentials
from tillkey.testing.messaging import sample_envelope

from .conftest import ADMIN, SECRET

pytestmark = pytest.mark.integration
ORDER = "ord_3Hq8ZrW2mNp5"
URL = f"/v1/orders/{ORDER}/payments"
TOKEN = {"token": credentials.make_order_token(SECRET, ORDER)}
ADMIN_H = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture
def order(service):
    service.dispatcher(sample_envelope("order.created"))
    return ORDER


def count(service, table) -> int:
    with service.session_factory() as s:
        return s.execute(select(func.count()).select_from(table)).scalar_one()


def outbox(service, key):
    import json
    with service.session_factory() as s:
        rows = s.execute(select(tables.outbox.c.body).where(tables.outbox.c.routing_key == key)).scalars().all()
    return [json.loads(r) for r in rows]


def test_bank_transfer_gives_instructions_and_emits_payment_pending(client, service, order):
    resp = client.post(URL, query_string=TOKEN, json={"method": "bank_transfer"})
    assert resp.status_code == 201, resp.get_json()
    p = resp.get_json()
    assert (p["status"], p["method"], p["amount"], p["currency"], p["failure"]) == (
        "awaiting_funds", "bank_transfer", 8820, "EUR", None)
    i = p["instructions"]
    assert re.fullmatch(r"TK-[2-9A-Z]{4}-[2-9A-Z]{4}", i["reference"])
    assert (i["amount"], i["currency"], i["iban"], i["bic"]) == (8820, "EUR", "DE89370400440532013000", "COBADEFFXXX")
    assert i["account_holder"] and i["bank_name"] and re.fullmatch(r"\d{4}-\d\d-\d\d", i["due_date"])
    [event] = outbox(service, "payment.pending")
    assert event["data"] == {"order_id": ORDER, "merchant_id": "mer_7Yb2kQ9xTz", "payment_id": p["payment_id"],
                             "method": "bank_transfer", "instructions": i}


def test_a_new_attempt_supersedes_the_open_one_with_a_new_reference(client, order):
    first = client.post(URL, query_string=TOKEN, json={"method": "bank_transfer"}).get_json()
    second = client.post(URL, query_string=TOKEN, json={"method": "bank_transfer"}).get_json()
    assert first["instructions"]["reference"] != second["instructions"]["reference"]
    listed = client.get(URL, query_string=TOKEN).get_json()["data"]
    assert [(p["payment_id"], p["status"]) for p in listed] == [
        (second["payment_id"], "awaiting_funds"), (first["payment_id"], "superseded")]


def test_support_confirms_a_bank_transfer_and_the_order_is_paid(client, service, order):
    p = client.post(URL, query_string=TOKEN, json={"method": "bank_transfer"}).get_json()
    confirm = f"/v1/payments/{p['payment_id']}/confirm"
    assert client.post(confirm).status_code == 401
    assert client.post(confirm, headers={"Authorization": "Bearer " + credentials.make_api_key(
        SECRET, "mer_7Yb2kQ9xTz")}).status_code == 403
    resp = client.post(confirm, headers=ADMIN_H)
    assert resp.status_code == 200 and resp.get_json()["status"] == "succeeded"
    [event] = outbox(service, "payment.succeeded")
    assert event["data"] == {"order_id": ORDER, "merchant_id": "mer_7Yb2kQ9xTz", "payment_id": p["payment_id"],
                             "method": "bank_transfer", "amount": 8820, "currency": "EUR"}
    again = client.post(confirm, headers=ADMIN_H)
    assert again.status_code == 409 and again.get_json()["code"] == "payment_not_awaiting_funds"
    assert client.post("/v1/payments/pay_nothing/confirm", headers=ADMIN_H).status_code == 404
    paid = client.post(URL, query_string=TOKEN, json={"method": "bank_transfer"})
    assert paid.status_code == 409 and paid.get_json()["code"] == "order_paid"
    assert len(outbox(service, "payment.succeeded")) == 1


def test_a_superseded_bank_transfer_cannot_be_confirmed(client, order):
    first = client.post(URL, query_string=TOKEN, json={"method": "bank_transfer"}).get_json()
    client.post(URL, query_string=TOKEN, json={"method": "bank_transfer"})
    resp = client.post(f"/v1/payments/{first['payment_id']}/confirm", headers=ADMIN_H)
    assert resp.status_code == 409


@pytest.mark.parametrize("body,field", [
    ({"method": "paypal"}, "method"), ({"method": "card"}, "payment_token"),
    ({"method": "card", "payment_token": ""}, "payment_token"), ({}, "method"), ({"method": 3}, "method"),
    ({"method": "bank_transfer", "payment_token": "tok_1"}, "payment_token"),
    ({"method": "free"}, "method"), ({"method": "bank_transfer", "amount": 1}, "amount")])
def test_bad_bodies_are_422_and_change_nothing(client, service, order, body, field):
    resp = client.post(URL, query_string=TOKEN, json=body)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["code"] == "validation_error" and field in resp.get_json()["errors"]
    assert count(service, tables.payments) == 0 and count(service, tables.outbox) == 0


def test_not_json_is_refused(client, order):
    assert client.post(URL, query_string=TOKEN, data="method=card").status_code == 415
    assert client.post(URL, query_string=TOKEN, data="{", content_type="application/json").status_code == 400


def test_who_may_start_a_payment(client, order):
    assert client.post(URL, json={"method": "bank_transfer"}).status_code == 401
    wrong = credentials.make_order_token(SECRET, "ord_other1")
    assert client.post(URL, query_string={"token": wrong}, json={"method": "bank_transfer"}).status_code == 404
    merchant = {"Authorization": "Bearer " + credentials.make_api_key(SECRET, "mer_7Yb2kQ9xTz")}
    assert client.post(URL, headers=merchant, json={"method": "bank_transfer"}).status_code == 403
    assert client.post(URL, headers=ADMIN_H, json={"method": "bank_transfer"}).status_code == 403
    # A stranger's bad body is still a 401, not a 422.
    assert client.post(URL, json={"method": "nope"}).status_code == 401


def test_an_order_not_known_yet_is_409_with_retry_after_and_the_same_key_works_later(client, service):
    key = {"Idempotency-Key": "attempt-1"}
    early = client.post(URL, query_string=TOKEN, json={"method": "bank_transfer"}, headers=key)
    assert early.status_code == 409 and early.headers["Retry-After"] == "1"
    assert early.get_json()["code"] == "order_not_ready"
    service.dispatcher(sample_envelope("order.created"))
    later = client.post(URL, query_string=TOKEN, json={"method": "bank_transfer"}, headers=key)
    assert later.status_code == 201 and later.get_json()["status"] == "awaiting_funds"


def test_the_idempotency_key_returns_the_first_attempt(client, service, order):
    key = {"Idempotency-Key": "pay-once"}
    first = client.post(URL, query_string=TOKEN, json={"method": "bank_transfer"}, headers=key)
    again = client.post(URL, query_string=TOKEN, json={"method": "bank_transfer"}, headers=key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert count(service, tables.payments) == 1 and len(outbox(service, "payment.pending")) == 1
    other = client.post(URL, query_string=TOKEN, json={"method": "card", "payment_token": "tok_x"}, headers=key)
    assert other.status_code == 422 and other.get_json()["code"] == "idempotency_key_reused"


@pytest.mark.parametrize("event,code", [("order.canceled", "order_canceled"), ("order.deleted", "order_deleted")])
def test_a_closed_order_cannot_be_paid_and_its_open_attempt_is_canceled(client, service, order, event, code):
    p = client.post(URL, query_string=TOKEN, json={"method": "bank_transfer"}).get_json()
    service.dispatcher(sample_envelope(event))
    resp = client.post(URL, query_string=TOKEN, json={"method": "bank_transfer"})
    assert resp.status_code == 409 and resp.get_json()["code"] == code
    listed = client.get(URL, headers=ADMIN_H).get_json()["data"]
    assert [(x["payment_id"], x["status"]) for x in listed] == [(p["payment_id"], "canceled")]
    assert client.post(f"/v1/payments/{p['payment_id']}/confirm", headers=ADMIN_H).status_code == 409


def test_a_free_order_is_already_paid(client, service):
    service.dispatcher(sample_envelope("order.created", total=0, discount=9800))
    resp = client.post(URL, query_string=TOKEN, json={"method": "bank_transfer"})
    assert resp.status_code == 409 and resp.get_json()["code"] == "order_paid"


def test_openapi_lists_the_new_calls(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert "post" in paths["/v1/orders/{order_id}/payments"]
    assert "post" in paths["/v1/payments/{payment_id}/confirm"]
    assert "post" in paths["/v1/refunds/{refund_id}/confirm"]


def test_support_finds_a_bank_transfer_by_its_reference_alone(client, order):
    first = client.post(URL, query_string=TOKEN, json={"method": "bank_transfer"}).get_json()
    second = client.post(URL, query_string=TOKEN, json={"method": "bank_transfer"}).get_json()
    reference = second["instructions"]["reference"]
    resp = client.get(f"/v1/bank-transfers/{reference}", headers=ADMIN_H)
    assert resp.status_code == 200, resp.get_json()
    found = resp.get_json()
    assert (found["order_id"], found["payment_id"], found["status"]) == (ORDER, second["payment_id"], "awaiting_funds")
    # As typed off a statement line: any case, spaces instead of dashes.
    typed = reference.lower().replace("-", " ")
    assert client.get(f"/v1/bank-transfers/{typed}", headers=ADMIN_H).get_json()["payment_id"] == second["payment_id"]
    # A superseded attempt is found too, with its status: support sees why it cannot be confirmed.
    old = client.get(f"/v1/bank-transfers/{first['instructions']['reference']}", headers=ADMIN_H).get_json()
    assert (old["payment_id"], old["status"]) == (first["payment_id"], "superseded")
    merchant = {"Authorization": "Bearer " + credentials.make_api_key(SECRET, "mer_7Yb2kQ9xTz")}
    assert client.get(f"/v1/bank-transfers/{reference}", headers=merchant).status_code == 403
    assert client.get(f"/v1/bank-transfers/{reference}").status_code == 401
    assert client.get("/v1/bank-transfers/TK-2222-2222", headers=ADMIN_H).status_code == 404
    for bad in ("TK-1111-1111", "XX-7QX2-M4PA", "TK-7QX2", "TK-7QX2-M4PA-9", "TK-7QX2-M4P!", "TK-" + "2" * 70):
        resp = client.get(f"/v1/bank-transfers/{bad}", headers=ADMIN_H)
        assert resp.status_code == 422 and resp.mimetype == "application/problem+json", bad
        assert "reference" in resp.get_json()["errors"]
