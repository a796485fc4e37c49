"""Refunds orders asks for, end to end inside payments: `refund.requested` in, the real sandbox
process refunds the charge and posts signed notifications back to payments on a real port, and
`payment.refunded` / `refund.failed` out (SQLite and PostgreSQL). Bank-transfer refunds are paid
out by hand and confirmed by support."""
from __future__ import annotations

import time
import uuid

import pytest
import requests

from tillkey.payments.adapters import tables
from tillkey.platform import credentials
from tillkey.testing.messaging import sample_envelope

pytestmark = pytest.mark.integration
ORDER, MERCHANT = "ord_3Hq8ZrW2mNp5", "mer_7Yb2kQ9xTz"


@pytest.fixture
def paid_by_card(shop):
    shop.service.dispatcher(sample_envelope("order.created"))
    payment = shop.pay_by_card(ORDER)
    shop.wait_status(ORDER, payment["payment_id"], "succeeded")
    return payment


def new_refund_id() -> str:
    # Unique per run: the sandbox process, with its idempotency keys, serves every test and database.
    return "re_" + uuid.uuid4().hex


def request_refund(shop, refund_id: str, amount: int, **data):
    shop.service.dispatcher(sample_envelope("refund.requested", new_id=True, refund_id=refund_id, amount=amount,
                                            **data))


def refund_row(shop, refund_id: str):
    return next((r for r in shop.rows(tables.refunds) if r.refund_id == refund_id), None)


def wait_refund(shop, refund_id: str, *statuses: str, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while True:
        row = refund_row(shop, refund_id)
        if row is not None and row.status in statuses:
            return row
        assert time.monotonic() < deadline, f"refund {refund_id} is {row and row.status}, not {statuses}"
        time.sleep(0.05)


def gateway_charge(shop, payment_id: str) -> dict:
    charge_id = next(r.charge_id for r in shop.rows(tables.payments) if r.payment_id == payment_id)
    return requests.get(f"{shop.sandbox_url}/v1/charges/{charge_id}", timeout=10).json()


def confirm(shop, refund_id: str, headers=None) -> requests.Response:
    return shop.http.post(f"{shop.url}/v1/refunds/{refund_id}/confirm", timeout=10,
                          headers={"Authorization": f"Bearer {shop.admin}"} if headers is None else headers)


def test_a_full_card_refund_goes_through_the_gateway_and_refunds_the_order(shop, paid_by_card):
    refund_id = new_refund_id()
    pay_id = paid_by_card["payment_id"]
    request_refund(shop, refund_id, 8820)
    assert wait_refund(shop, refund_id, "succeeded").gateway_refund_id.startswith("rfd_")
    assert shop.wait_status(ORDER, pay_id, "refunded")["refunds"][0]["status"] == "succeeded"
    assert shop.order_status(ORDER) == "refunded"
    [event] = shop.events("payment.refunded")
    assert event["data"] == {"order_id": ORDER, "merchant_id": MERCHANT, "payment_id": pay_id, "method": "card",
                             "refund_id": refund_id, "amount": 8820, "currency": "EUR", "order_status": "refunded"}
    assert shop.events("refund.failed") == []
    assert gateway_charge(shop, pay_id)["amount_refunded"] == 8820  # the customer has the money back


def test_a_partial_refund_then_the_rest(shop, paid_by_card):
    first, rest, beyond = new_refund_id(), new_refund_id(), new_refund_id()
    pay_id = paid_by_card["payment_id"]
    request_refund(shop, first, 3000)
    wait_refund(shop, first, "succeeded")
    listed = shop.wait_status(ORDER, pay_id, "partially_refunded")
    assert [(r["refund_id"], r["amount"], r["automatic"], r["method"]) for r in listed["refunds"]] == [
        (first, 3000, False, "gateway")]
    assert shop.order_status(ORDER) == "paid"
    request_refund(shop, rest, 5820)
    wait_refund(shop, rest, "succeeded")
    shop.wait_status(ORDER, pay_id, "refunded")
    assert shop.order_status(ORDER) == "refunded"
    assert [(e["data"]["refund_id"], e["data"]["amount"], e["data"]["order_status"])
            for e in shop.events("payment.refunded")] == [(first, 3000, "paid"), (rest, 5820, "refunded")]
    # Anything more is refused here too (orders would not ask): refund.failed, no money moves.
    request_refund(shop, beyond, 1)
    assert refund_row(shop, beyond).failure_code == "nothing_to_refund"
    [failed] = shop.events("refund.failed")
    assert failed["data"]["refund_id"] == beyond
    assert gateway_charge(shop, pay_id)["amount_refunded"] == 8820


def test_a_refund_the_gateway_refuses_answers_refund_failed_and_the_payment_stays_paid(shop):
    refund_id = new_refund_id()
    shop.service.dispatcher(sample_envelope("order.created"))
    payment = shop.pay_by_card(ORDER, "4000000000005126")  # charges succeed, refunds fail
    shop.wait_status(ORDER, payment["payment_id"], "succeeded")
    request_refund(shop, refund_id, 8820)
    row = wait_refund(shop, refund_id, "failed")
    assert (row.failure_code, row.failure_message) == ("refund_declined", "The card issuer refused the refund.")
    [event] = shop.events("refund.failed")
    assert event["data"] == {"order_id": ORDER, "merchant_id": MERCHANT, "refund_id": refund_id, "amount": 8820,
                             "failure": {"code": "refund_declined",
                                         "message": "The card issuer refused the refund."}}
    assert shop.events("payment.refunded") == []
    listed = shop.payment(ORDER, payment["payment_id"])
    assert listed["status"] == "succeeded" and listed["refunds"][0]["failure"]["code"] == "refund_declined"
    assert shop.order_status(ORDER) == "paid"


def test_a_duplicate_refund_request_has_one_effect(shop, paid_by_card):
    same = sample_envelope("refund.requested", refund_id=new_refund_id(), amount=1000)
    shop.service.dispatcher(same)
    shop.service.dispatcher(same)  # redelivered by the broker
    request_refund(shop, same.data["refund_id"], 1000)  # re-sent by orders under a new event id
    wait_refund(shop, same.data["refund_id"], "succeeded")
    shop.wait_status(ORDER, paid_by_card["payment_id"], "partially_refunded")
    assert len(shop.rows(tables.refunds)) == 1
    assert len(gateway_charge(shop, paid_by_card["payment_id"])["refunds"]) == 1
    assert len(shop.events("payment.refunded")) == 1


def test_a_replayed_refund_notification_changes_nothing(shop, paid_by_card):
    refund_id = new_refund_id()
    request_refund(shop, refund_id, 2000)
    row = wait_refund(shop, refund_id, "succeeded")
    [seen] = [n for n in shop.rows(tables.gateway_notifications) if n.type == "refund.succeeded"]
    data = {"charge_id": row.charge_id, "reference": refund_id, "refund_id": row.gateway_refund_id,
            "amount": 2000, "currency": "EUR", "status": "succeeded"}
    again = shop.notify("refund.succeeded", data, notification_id=seen.notification_id)
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    # The same news under a new id, and a contradicting one: acknowledged, nothing changes.
    assert shop.notify("refund.succeeded", data).json() == {"status": "applied"}
    assert shop.notify("refund.failed", {**data, "status": "failed", "failure_code": "refund_declined"}).status_code \
        == 200
    # One naming another gateway refund is refused outright.
    assert shop.notify("refund.succeeded", {**data, "refund_id": "rfd_other"}).status_code == 422
    assert refund_row(shop, refund_id).status == "succeeded"
    assert len(shop.events("payment.refunded")) == 1 and shop.events("refund.failed") == []
    assert shop.payment(ORDER, paid_by_card["payment_id"])["status"] == "partially_refunded"


def test_a_bank_transfer_refund_waits_for_support_to_pay_it_out(shop):
    refund_id = new_refund_id()
    shop.service.dispatcher(sample_envelope("order.created"))
    bank = shop.pay(ORDER, "bank_transfer")
    assert confirm_payment(shop, bank["payment_id"]).status_code == 200
    request_refund(shop, refund_id, 8820)
    listed = shop.payment(ORDER, bank["payment_id"])
    assert listed["status"] == "succeeded"
    assert [(r["refund_id"], r["status"], r["method"]) for r in listed["refunds"]] == [(refund_id, "pending",
                                                                                         "manual")]
    assert shop.events("payment.refunded") == []
    merchant = {"Authorization": "Bearer " + credentials.make_api_key(shop.secret, MERCHANT)}
    assert confirm(shop, refund_id, headers={}).status_code == 401
    assert confirm(shop, refund_id, headers=merchant).status_code == 403
    assert confirm(shop, "re_nosuch").status_code == 404
    assert refund_row(shop, refund_id).status == "pending"  # none of those changed anything
    done = confirm(shop, refund_id)
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["refund_id"], body["status"], body["amount"], body["payment_id"]) == (
        refund_id, "succeeded", 8820, bank["payment_id"])
    assert shop.payment(ORDER, bank["payment_id"])["status"] == "refunded" and shop.order_status(ORDER) == "refunded"
    [event] = shop.events("payment.refunded")
    assert event["data"]["method"] == "bank_transfer" and event["data"]["order_status"] == "refunded"
    again = confirm(shop, refund_id)
    assert again.status_code == 409 and again.json()["code"] == "refund_not_pending"
    assert len(shop.events("payment.refunded")) == 1


def test_a_card_refund_cannot_be_confirmed_by_hand(shop, paid_by_card):
    refund_id = new_refund_id()
    request_refund(shop, refund_id, 100)
    resp = confirm(shop, refund_id)
    assert resp.status_code == 409 and resp.json()["code"] == "refund_not_manual"
    assert resp.headers["Content-Type"] == "application/problem+json"


def confirm_payment(shop, payment_id: str) -> requests.Response:
    return shop.http.post(f"{shop.url}/v1/payments/{payment_id}/confirm", timeout=10,
                          headers={"Authorization": f"Bearer {shop.admin}"})
