"""Issue 7 through the real processes: cancellation, refunds (full and partial), resending licenses."""
import pytest

from tillkey.devtools.launcher import wait_until
from tillkey.testing.receiver import Receiver

pytestmark = pytest.mark.e2e


@pytest.fixture
def shop(client):
    merchant = client.new_merchant()
    product = client.new_product(merchant["api_key"], prices={"EUR": 5000})
    client.call("fulfillment", "PUT", f"/v1/products/{product['product_id']}/license-source", merchant["api_key"],
                json={"method": "pool"}, expect=200)
    client.call("fulfillment", "POST", f"/v1/products/{product['product_id']}/licenses", merchant["api_key"],
                json={"keys": [f"KEY-{i}" for i in range(20)]}, expect=201)
    with Receiver() as receiver:
        client.new_endpoint(merchant["api_key"], f"{receiver.url}/hooks")
        yield merchant, product, receiver


def events(receiver, order_id, type):
    return [r.json() for r in receiver.snapshot()
            if r.json()["type"] == type and r.json()["data"].get("order_id") == order_id]


def mails(platform, order_id, template):
    return [m for m in platform.mails() if m["X-Tillkey-Template"] == template
            and order_id in m.get_body(("plain",)).get_content()]


def paid_and_delivered(client, merchant, product):
    checkout = client.checkout(product["product_id"])
    client.pay_when_ready(checkout)
    client.wait_order(checkout["order_id"], merchant["api_key"], lambda o: o["delivery_status"] == "delivered")
    return checkout


def test_support_cancels_an_unpaid_order_and_nobody_else_can(client, platform, shop):
    merchant, product, receiver = shop
    checkout = client.checkout(product["product_id"])
    order_id, admin = checkout["order_id"], platform.config.admin_token
    client.call("orders", "POST", f"/v1/orders/{order_id}/cancel", merchant["api_key"],
                json={"reason": "merchant tries"}, expect=403)
    client.call("orders", "POST", f"/v1/orders/{order_id}/cancel", params={"token": checkout["order_token"]},
                json={"reason": "customer tries"}, expect=403)
    canceled = client.call("orders", "POST", f"/v1/orders/{order_id}/cancel", admin,
                           json={"reason": "customer asked support"}, expect=200).json()
    assert canceled["status"] == "canceled"
    receiver.wait_for(lambda _: events(receiver, order_id, "order.canceled"))
    assert events(receiver, order_id, "order.canceled")[0]["data"]["reason"] == "customer asked support"

    wait_until(lambda: client.try_bank_transfer(checkout) == 409, 20, "payments to refuse the canceled order")
    client.call("orders", "POST", f"/v1/orders/{order_id}/cancel", admin, json={"reason": "again"}, expect=409)


def test_a_paid_order_cannot_be_canceled(client, platform, shop):
    merchant, product, _ = shop
    checkout = paid_and_delivered(client, merchant, product)
    client.call("orders", "POST", f"/v1/orders/{checkout['order_id']}/cancel", platform.config.admin_token,
                json={"reason": "too late"}, expect=409)


def test_partial_then_full_refund(client, platform, shop):
    merchant, product, receiver = shop
    checkout = paid_and_delivered(client, merchant, product)
    order_id = checkout["order_id"]
    first = client.call("orders", "POST", f"/v1/orders/{order_id}/refund", merchant["api_key"],
                        json={"amount": 2000, "reason": "one seat unused"}, expect=202).json()
    assert first["amount"] == 2000 and first["status"] == "pending"
    client.call("orders", "POST", f"/v1/orders/{order_id}/refund", merchant["api_key"],
                json={"amount": 3001, "reason": "too much"}, expect=422)
    order = client.wait_order(order_id, merchant["api_key"], lambda o: o["refunded_amount"] == 2000)
    assert order["status"] == "paid"
    [partial] = receiver.wait_for(lambda _: events(receiver, order_id, "payment.refunded"))
    assert partial["data"]["amount"] == 2000 and partial["data"]["order_status"] == "paid"

    client.call("orders", "POST", f"/v1/orders/{order_id}/refund", platform.config.admin_token,
                json={"reason": "customer unhappy"}, expect=202)
    order = client.wait_order(order_id, merchant["api_key"], lambda o: o["status"] == "refunded")
    assert order["refunded_amount"] == 5000
    refunded = receiver.wait_for(lambda _: len(events(receiver, order_id, "payment.refunded")) == 2
                                 and events(receiver, order_id, "payment.refunded"))
    assert refunded[1]["data"]["order_status"] == "refunded" and refunded[1]["data"]["amount"] == 3000
    wait_until(lambda: len(mails(platform, order_id, "refund_confirmation")) == 2, 20, "two refund emails")
    client.call("orders", "POST", f"/v1/orders/{order_id}/refund", platform.config.admin_token,
                json={"reason": "nothing left"}, expect=409)


def test_resend_licenses_emails_them_again(client, platform, shop):
    merchant, product, _ = shop
    checkout = paid_and_delivered(client, merchant, product)
    order_id = checkout["order_id"]
    [line] = client.deliveries(checkout)
    key = line["licenses"][0]
    wait_until(lambda: mails(platform, order_id, "license_delivery"), 20, "the first license email")
    before = len([m for m in platform.mails() if key in m.get_body(("plain",)).get_content()])
    client.call("orders", "POST", f"/v1/orders/{order_id}/resend-licenses", params={"token": checkout["order_token"]},
                expect=202)
    wait_until(lambda: len([m for m in platform.mails() if key in m.get_body(("plain",)).get_content()]) == before + 1,
               20, "the licenses emailed again")
