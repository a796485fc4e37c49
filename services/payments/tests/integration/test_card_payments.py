"""Card payments end to end inside payments: the real sandbox process tokenizes, charges and posts
signed notifications back to payments on a real port (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest

from tillkey.payments.adapters import tables
from tillkey.testing.messaging import sample_envelope

pytestmark = pytest.mark.integration
ORDER = "ord_3Hq8ZrW2mNp5"


@pytest.fixture
def order(shop):
    shop.service.dispatcher(sample_envelope("order.created"))
    return ORDER


def test_a_good_card_pays_the_order_once(shop, order):
    started = shop.pay_by_card(order)
    assert (started["status"], started["method"], started["amount"], started["currency"]) == (
        "pending", "card", 8820, "EUR")
    assert started["payment_id"].startswith("pay_") and started["created_at"].endswith("Z")
    done = shop.wait_status(order, started["payment_id"], "succeeded")
    assert done["failure"] is None
    assert shop.order_status(order) == "paid"
    [event] = shop.events("payment.succeeded")
    assert event["data"] == {"order_id": order, "merchant_id": "mer_7Yb2kQ9xTz", "payment_id": started["payment_id"],
                             "method": "card", "amount": 8820, "currency": "EUR"}
    [row] = [r for r in shop.rows(tables.payments) if r.payment_id == started["payment_id"]]
    assert row.charge_id.startswith("ch_") and row.gateway == "sandbox"
    assert row.gateway_token is None  # spent: not kept once the gateway took the charge


@pytest.mark.parametrize("number,code", [("4000000000000002", "card_declined"),
                                         ("4000000000009995", "insufficient_funds")])
def test_a_declined_card_fails_the_attempt_and_the_customer_can_retry(shop, order, number, code):
    failed = shop.pay_by_card(order, number)
    done = shop.wait_status(order, failed["payment_id"], "failed")
    assert done["failure"]["code"] == code and "Try another" in done["failure"]["message"]
    [event] = shop.events("payment.failed")
    assert event["data"]["failure"] == done["failure"] and event["data"]["payment_id"] == failed["payment_id"]
    assert shop.order_status(order) == "not_paid"
    retry = shop.pay_by_card(order)
    shop.wait_status(order, retry["payment_id"], "succeeded")
    assert shop.payment(order, failed["payment_id"])["status"] == "failed"  # final: not superseded


def test_a_card_the_gateway_answers_5xx_twice_still_goes_through(shop, order):
    started = shop.pay_by_card(order, "4000000000000119")
    assert started["status"] == "pending"
    shop.wait_status(order, started["payment_id"], "succeeded")


def test_a_gateway_that_is_down_fails_the_attempt_clearly_and_nothing_is_lost(make_shop):
    from tillkey.devtools.launcher import free_port

    down = make_shop(gateway_url=f"http://127.0.0.1:{free_port()}")
    down.service.dispatcher(sample_envelope("order.created"))
    failed = down.pay(ORDER, "card", down.card_token())
    assert failed["status"] == "failed"
    assert failed["failure"]["code"] == "gateway_unavailable" and "try again" in failed["failure"]["message"]
    [event] = down.events("payment.failed")
    assert event["data"]["failure"]["code"] == "gateway_unavailable"
    assert down.order_status(ORDER) == "not_paid"
    assert down.pay(ORDER, "bank_transfer")["status"] == "awaiting_funds"  # the customer carries on


def test_a_used_token_is_refused_by_the_gateway_and_fails_the_attempt(slow_shop):
    # The slow sandbox (1.5 s to settle): the first charge's success must not arrive, and supersede
    # the second attempt, before the second attempt's refusal — under load 200 ms was not enough.
    shop = slow_shop
    shop.service.dispatcher(sample_envelope("order.created"))
    order = ORDER
    token = shop.card_token()
    first = shop.pay(order, "card", token)
    second = shop.pay(order, "card", token)  # the first is superseded; its token is spent at the gateway
    assert second["status"] == "failed" and second["failure"]["code"] == "token_used"
    # The first charge still succeeds at the gateway; the order being unpaid, it pays it (the customer paid).
    shop.wait_status(order, first["payment_id"], "succeeded")
    assert shop.order_status(order) == "paid" and len(shop.events("payment.succeeded")) == 1
