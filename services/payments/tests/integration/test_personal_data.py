"""Payments holds no customer personal data (docs/architecture.md §2.4): nothing to erase here when an unpaid
order is deleted, and a deleted order takes no payment attempt (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest

from tillkey.contracts import load_sample
from tillkey.contracts.orders_events import personal_values
from tillkey.platform import credentials
from tillkey.testing.erasure import assert_no_trace, find_text
from tillkey.testing.messaging import sample_envelope

from .conftest import ADMIN, SECRET

pytestmark = pytest.mark.integration
ORDER = "ord_3Hq8ZrW2mNp5"
URL = f"/v1/orders/{ORDER}/payments"
TOKEN = {"token": credentials.make_order_token(SECRET, ORDER)}


def test_an_order_and_its_payments_leave_no_personal_data_in_the_payments_database(client, service):
    needles = personal_values(load_sample("order.created")["data"])
    assert {"ada@example.com", "Ada", "Lovelace", "Analytical Engines Ltd", "GB123456789"} <= set(needles)
    service.dispatcher(sample_envelope("order.created"))
    pending = client.post(URL, query_string=TOKEN, json={"method": "bank_transfer"}, headers={"Idempotency-Key": "k1"})
    assert pending.status_code == 201
    confirmed = client.post(f"/v1/payments/{pending.get_json()['payment_id']}/confirm",
                            headers={"Authorization": f"Bearer {ADMIN}"})
    assert confirmed.status_code == 200
    service.dispatcher(sample_envelope("refund.requested"))
    assert find_text(service.engine, ORDER)  # the scan does see the order's rows and events
    assert_no_trace(service.engine, *needles)


def test_a_deleted_order_takes_no_payment_attempt(client, service):
    service.dispatcher(sample_envelope("order.created"))
    service.dispatcher(sample_envelope("order.deleted"))
    resp = client.post(URL, query_string=TOKEN, json={"method": "bank_transfer"})
    assert resp.status_code == 409 and resp.get_json()["code"] == "order_deleted"
    # The customer's token no longer opens it; support still sees the (empty) attempts.
    assert client.get(URL, query_string=TOKEN).status_code == 404
    assert client.get(URL, headers={"Authorization": f"Bearer {ADMIN}"}).get_json()["data"] == []
