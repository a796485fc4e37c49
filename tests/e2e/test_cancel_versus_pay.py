"""Issue 18 (5) through the real processes: support cancels while a card payment succeeds.

The rule (docs/cancel-vs-pay.md): orders decides, under the order's row lock. Either the payment
won (cancel 409, the order paid and delivered) or the cancel won (the order canceled, the charge
refunded, no license handed out) — never a canceled order with a license.
"""
import time

import pytest

from tillkey.devtools.launcher import wait_until
from tillkey.testing.receiver import Receiver

pytestmark = pytest.mark.e2e

# The sandbox settles a charge 1.5 s after taking it, so a cancel can land while it is in flight.
# The refunds go to the gateway at once (the sweeper's 30 s PAYMENTS_GATEWAY_RESUBMIT_AFTER is
# left as it is: waiting 30 s for the refund fails the test).
PLATFORM_ENV = {"SANDBOX_SETTLE_DELAY": "1500ms"}
POOL = 30


@pytest.fixture
def shop(client):
    merchant = client.new_merchant()
    product = client.new_product(merchant["api_key"], prices={"EUR": 5000})
    client.call("fulfillment", "PUT", f"/v1/products/{product['product_id']}/license-source", merchant["api_key"],
                json={"method": "pool"}, expect=200)
    client.call("fulfillment", "POST", f"/v1/products/{product['product_id']}/licenses", merchant["api_key"],
                json={"keys": [f"KEY-{i}" for i in range(POOL)]}, expect=201)
    with Receiver() as receiver:
        client.new_endpoint(merchant["api_key"], f"{receiver.url}/hooks")
        yield merchant, product, receiver


def cancel(client, platform, order_id):
    return client.call("orders", "POST", f"/v1/orders/{order_id}/cancel", platform.config.admin_token,
                       json={"reason": "customer called support"})


def card_charge(client, checkout) -> dict:
    """The order's card attempt that reached the gateway (the one the customer paid with)."""
    [payment] = [p for p in client.payments(checkout) if p["method"] == "card"]
    return payment


def issued(client, merchant, product) -> int:
    return client.call("fulfillment", "GET", f"/v1/products/{product['product_id']}/licenses/stats",
                       merchant["api_key"], expect=200).json()["issued"]


def licenses_of(platform, receiver, checkout) -> dict:
    """Every trace of a license handed out for the order: emails, webhooks, deliveries."""
    order_id = checkout["order_id"]
    mails = [m for m in platform.mails() if m["X-Tillkey-Template"] == "license_delivery"
             and order_id in m.get_body(("plain",)).get_content()]
    hooks = [r.json() for r in receiver.snapshot()
             if r.json()["type"] == "product.delivered" and r.json()["data"]["order_id"] == order_id]
    return {"mails": mails, "webhooks": hooks}


def assert_canceled_and_refunded(client, platform, merchant, receiver, checkout):
    order = client.wait_order(checkout["order_id"], merchant["api_key"], lambda o: o["status"] == "canceled")
    assert order["delivery_status"] == "not_delivered" and order["paid_at"] is None
    wait_until(lambda: card_charge(client, checkout)["status"] == "refunded", 15, "the charge to be refunded")
    deliveries = client.deliveries(checkout)
    assert all(d["licenses"] == [] and d["status"] == "pending" for d in deliveries), deliveries
    assert licenses_of(platform, receiver, checkout) == {"mails": [], "webhooks": []}


def test_a_charge_that_lands_after_orders_canceled_is_refunded_and_nothing_is_delivered(client, platform, shop):
    """The interleaving that handed out a key before: payments accepts the charge (and tells every
    service payment.succeeded) while orders has already canceled the order. The orders worker is
    held so that its consumer cannot apply the payment before the cancel."""
    merchant, product, receiver = shop
    checkout = client.checkout(product["product_id"])
    client.pay_when_ready(checkout)                       # pending: the gateway settles in 1.5 s
    platform.stop_process("orders-worker")
    try:
        wait_until(lambda: card_charge(client, checkout)["status"] == "succeeded", 30, "the charge to succeed")
        # payment.succeeded is now on its way to fulfillment, notifications and webhooks.
        wait_until(lambda: any(r.json()["type"] == "payment.succeeded" for r in receiver.snapshot()), 30,
                   "fulfillment's sibling consumers to have payment.succeeded")
        assert cancel(client, platform, checkout["order_id"]).status_code == 200
    finally:
        platform.start_process("orders-worker")
    assert_canceled_and_refunded(client, platform, merchant, receiver, checkout)
    assert issued(client, merchant, product) == 0
    assert not any(r.json()["type"] == "order.delivered" for r in receiver.snapshot())


def test_cancel_at_the_moment_the_charge_settles_ends_one_way_or_the_other(client, platform, shop):
    """Cancels fired around the gateway's settle time: each order ends paid and delivered (cancel
    refused with a clear 409) or canceled and refunded with no license — whichever came first."""
    merchant, product, receiver = shop
    outcomes = []
    for delay in (1.2, 1.45, 1.55, 1.7, 1.9, 2.3):
        checkout = client.checkout(product["product_id"])
        client.pay_when_ready(checkout)
        time.sleep(delay)
        answer = cancel(client, platform, checkout["order_id"])
        assert answer.status_code in (200, 409), answer.text
        outcomes.append((checkout, answer))
    for checkout, answer in outcomes:
        if answer.status_code == 409:
            problem = answer.json()
            assert problem["code"] == "order_status" and "paid" in problem["detail"], problem
            order = client.wait_order(checkout["order_id"], merchant["api_key"],
                                      lambda o: o["delivery_status"] == "delivered")
            assert order["status"] == "paid"
            assert len(licenses_of(platform, receiver, checkout)["webhooks"]) == 1
        else:
            assert_canceled_and_refunded(client, platform, merchant, receiver, checkout)
    paid = sum(1 for _, answer in outcomes if answer.status_code == 409)
    assert issued(client, merchant, product) == paid          # one key per paid order, none for the others
    print(f"cancel vs pay: {paid} paid and delivered, {len(outcomes) - paid} canceled and refunded")
