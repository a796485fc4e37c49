"""POST /v1/gateways/sandbox/notifications: only the gateway is believed, once, and only for what we asked.

The sandbox process sends the real notifications; `shop.notify` signs copies (replays) and
forgeries the same way, to show what each changes.
"""
from __future__ import annotations

import time

import pytest
import requests

from tillkey.contracts.signing import new_secret
from tillkey.payments.adapters import tables
from tillkey.testing.messaging import sample_envelope

pytestmark = pytest.mark.integration
ORDER = "ord_3Hq8ZrW2mNp5"


def created(shop, **data):
    shop.service.dispatcher(sample_envelope("order.created", **data))
    return ORDER


def charge_data(payment: dict, charge_id: str, amount: int | None = None, **extra) -> dict:
    return {"charge_id": charge_id, "reference": payment["payment_id"], "amount": amount or payment["amount"],
            "currency": payment["currency"], "status": "succeeded", "metadata": {}, **extra}


def charge_of(shop, payment_id: str) -> str:
    return next(r.charge_id for r in shop.rows(tables.payments) if r.payment_id == payment_id)


def test_a_replayed_notification_changes_nothing(shop):
    order = created(shop)
    paid = shop.pay_by_card(order)
    shop.wait_status(order, paid["payment_id"], "succeeded")
    [seen] = shop.rows(tables.gateway_notifications)
    data = charge_data(paid, charge_of(shop, paid["payment_id"]))
    again = shop.notify("charge.succeeded", data, notification_id=seen.notification_id)
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    # The same news under a new id (a gateway re-sending): acknowledged, still no second effect.
    other = shop.notify("charge.succeeded", data)
    assert other.status_code == 200
    assert len(shop.events("payment.succeeded")) == 1 and shop.rows(tables.refunds) == []
    assert shop.payment(order, paid["payment_id"])["status"] == "succeeded"


def test_forged_stale_and_malformed_notifications_are_refused_and_change_nothing(make_shop):
    from tillkey.devtools.launcher import free_port

    shop = make_shop(gateway_url=f"http://127.0.0.1:{free_port()}")  # no real result will ever come
    order = created(shop)
    attempt = shop.pay(order, "card", shop.card_token())  # failed: gateway_unavailable
    data = charge_data(attempt, "ch_forged")
    forged = shop.notify("charge.succeeded", data, secret=new_secret())
    assert forged.status_code == 401 and forged.json()["code"] == "invalid_signature"
    stale = shop.notify("charge.succeeded", data, timestamp=int(time.time()) - 3600)
    assert stale.status_code == 401
    unsigned = requests.post(shop.url + "/v1/gateways/sandbox/notifications", json={"type": "charge.succeeded",
                                                                                   "data": data}, timeout=10)
    assert unsigned.status_code == 401 and unsigned.headers["Content-Type"] == "application/problem+json"
    unknown_type = shop.notify("charge.exploded", data)
    assert unknown_type.status_code == 400 and unknown_type.json()["code"] == "invalid_notification"
    nowhere = requests.post(shop.url + "/v1/gateways/paypal/notifications", data=b"{}", timeout=10)
    assert nowhere.status_code == 404
    assert shop.order_status(order) == "not_paid" and shop.events("payment.succeeded") == []
    assert shop.rows(tables.gateway_notifications) == []


def test_a_notification_whose_amount_does_not_match_is_refused(make_shop):
    from tillkey.devtools.launcher import free_port

    shop = make_shop(gateway_url=f"http://127.0.0.1:{free_port()}")
    order = created(shop)
    attempt = shop.pay(order, "card", shop.card_token())
    for wrong in ({"amount": 1}, {"currency": "USD"}):
        resp = shop.notify("charge.succeeded", {**charge_data(attempt, "ch_x"), **wrong})
        assert resp.status_code == 422 and resp.json()["code"] == "notification_mismatch"
    assert shop.order_status(order) == "not_paid" and shop.rows(tables.gateway_notifications) == []
    # The matching one is believed: the gateway took the money after all, the order is unpaid → it pays.
    assert shop.notify("charge.succeeded", charge_data(attempt, "ch_x")).json() == {"status": "applied"}
    assert shop.payment(order, attempt["payment_id"])["status"] == "succeeded"
    assert shop.order_status(order) == "paid"
    # And a later one naming another charge for the same attempt is refused.
    assert shop.notify("charge.succeeded", charge_data(attempt, "ch_other")).status_code == 422


def test_a_notification_for_someone_elses_payment_is_acknowledged_and_ignored(shop):
    resp = shop.notify("charge.succeeded", {"charge_id": "ch_1", "reference": "pay_notOurs", "amount": 1,
                                            "currency": "EUR", "status": "succeeded"})
    assert resp.status_code == 200 and resp.json() == {"status": "ignored"}


def test_two_successful_charges_pay_once_and_the_extra_is_refunded(slow_shop):
    shop = slow_shop
    order = created(shop)
    first = shop.pay_by_card(order)
    second = shop.pay_by_card(order)  # supersedes the first, whose charge is still in flight
    assert shop.payment(order, first["payment_id"])["status"] == "superseded"
    deadline = time.monotonic() + 20
    while {p["status"] for p in shop.payments(order)} != {"succeeded", "refunded"}:
        assert time.monotonic() < deadline, shop.payments(order)
        time.sleep(0.1)
    [event] = shop.events("payment.succeeded")
    winner = event["data"]["payment_id"]
    loser = second["payment_id"] if winner == first["payment_id"] else first["payment_id"]
    assert shop.payment(order, winner)["status"] == "succeeded" and shop.order_status(order) == "paid"
    [refund] = shop.rows(tables.refunds)
    assert (refund.payment_id, refund.amount, refund.status, refund.automatic) == (loser, 8820, "succeeded", True)
    assert refund.reason == "duplicate_charge" and refund.refund_id.startswith("re_")
    gateway_charge = requests.get(f"{shop.sandbox_url}/v1/charges/{charge_of(shop, loser)}", timeout=10).json()
    assert gateway_charge["amount_refunded"] == 8820  # the customer has the extra charge back
    # Internal: the merchant's order was not refunded, so no payment.refunded; the list shows why.
    assert shop.events("payment.refunded") == [] and shop.events("refund.failed") == []
    [shown] = shop.payment(order, loser)["refunds"]
    assert (shown["automatic"], shown["status"], shown["reason"]) == (True, "succeeded", "duplicate_charge")
    assert shop.payment(order, winner)["refunds"] == []


def test_a_charge_that_succeeds_after_the_order_was_canceled_is_refunded(slow_shop):
    shop = slow_shop
    order = created(shop)
    attempt = shop.pay_by_card(order)
    shop.service.dispatcher(sample_envelope("order.canceled"))
    shop.wait_status(order, attempt["payment_id"], "refunded")
    assert shop.order_status(order) == "canceled" and shop.events("payment.succeeded") == []
    [refund] = shop.rows(tables.refunds)
    assert refund.reason == "order_canceled" and refund.status == "succeeded"
    assert shop.events("payment.refunded") == []  # orders canceled it: nothing to tell about a refund


def test_a_superseded_card_attempt_that_succeeds_pays_the_unpaid_order(slow_shop):
    # Decision: the customer paid by card while switching to a bank transfer. The order is unpaid,
    # so the card payment counts; the bank transfer is superseded and can no longer be confirmed.
    shop = slow_shop
    order = created(shop)
    card = shop.pay_by_card(order)
    bank = shop.pay(order, "bank_transfer")
    assert shop.payment(order, card["payment_id"])["status"] == "superseded"
    shop.wait_status(order, card["payment_id"], "succeeded")
    assert shop.payment(order, bank["payment_id"])["status"] == "superseded"
    assert shop.order_status(order) == "paid"
    [event] = shop.events("payment.succeeded")
    assert event["data"]["payment_id"] == card["payment_id"]
    confirm = requests.post(f"{shop.url}/v1/payments/{bank['payment_id']}/confirm",
                            headers={"Authorization": f"Bearer {shop.admin}"}, timeout=10)
    assert confirm.status_code == 409
