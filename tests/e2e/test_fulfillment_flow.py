"""Issues 4, 5 and 6 through the real processes: every license source, the emails, the webhooks."""
import json
import threading

import pytest
from standardwebhooks import Webhook

from tillkey.testing.receiver import Receiver

pytestmark = pytest.mark.e2e

PLATFORM_ENV = {"LICENSE_WEB_SERVICE_RETRY_SCHEDULE": "0.5s,0.5s,0.5s", "SCHEDULER_INTERVAL": "1s"}


@pytest.fixture
def shop(client):
    merchant = client.new_merchant()
    with Receiver() as receiver:
        endpoint = client.new_endpoint(merchant["api_key"], f"{receiver.url}/hooks")
        yield merchant, receiver, endpoint


def set_source(client, merchant, product, **source):
    return client.call("fulfillment", "PUT", f"/v1/products/{product['product_id']}/license-source",
                       merchant["api_key"], json=source, expect=200).json()


def upload(client, merchant, product, keys):
    return client.call("fulfillment", "POST", f"/v1/products/{product['product_id']}/licenses",
                       merchant["api_key"], json={"keys": keys}, expect=201).json()


def buy(client, merchant, product=None, lines=None, **kwargs):
    checkout = client.checkout(product["product_id"] if product else None, lines=lines, **kwargs)
    client.pay_when_ready(checkout)
    client.wait_order(checkout["order_id"], merchant["api_key"], lambda o: o["status"] == "paid")
    return checkout


def mails_about(platform, order_id, template=None):
    return [m for m in platform.mails() if order_id in m.get_body(("plain",)).get_content()
            and (template is None or m["X-Tillkey-Template"] == template)]


def webhooks_of(receiver, order_id):
    return [r for r in receiver.snapshot() if r.json()["data"].get("order_id") == order_id]


def test_pool_order_is_delivered_emailed_once_and_every_event_reaches_the_merchant_in_order(
        client, platform, shop):
    merchant, receiver, endpoint = shop
    product = client.new_product(merchant["api_key"], name="Pool Product")
    set_source(client, merchant, product, method="pool")
    assert upload(client, merchant, product, ["POOL-KEY-1", "POOL-KEY-2"])["available"] == 2

    checkout = buy(client, merchant, product, email="pool.buyer@example.com")
    order = client.wait_order(checkout["order_id"], merchant["api_key"], lambda o: o["delivery_status"] == "delivered")
    [line] = client.deliveries(checkout)
    assert line["status"] == "delivered" and line["method"] == "pool" and len(line["licenses"]) == 1
    key = line["licenses"][0]

    # Notifications: exactly one confirmation and one license email, holding the key.
    from tillkey.devtools.launcher import wait_until
    wait_until(lambda: len(mails_about(platform, order["order_id"], "license_delivery")) == 1, 20, "license email")
    confirmations = mails_about(platform, order["order_id"], "payment_confirmation")
    licenses = mails_about(platform, order["order_id"], "license_delivery")
    assert len(confirmations) == 1 and len(licenses) == 1
    assert licenses[0]["To"] == "pool.buyer@example.com" and key in licenses[0].get_body(("plain",)).get_content()

    # Webhooks: the whole flow at the `*` endpoint, numbered in order, every one verifiable.
    wanted = ["order.created", "payment.succeeded", "product.delivered", "order.delivered"]
    order_id = order["order_id"]
    receiver.wait_for(lambda _: "order.delivered" in [r.json()["type"] for r in webhooks_of(receiver, order_id)])
    verify = Webhook(endpoint["secret"]).verify
    payloads = sorted((verify(h.body, h.headers) for h in webhooks_of(receiver, order["order_id"])),
                      key=lambda p: p["sequence"])
    assert [p["sequence"] for p in payloads] == list(range(1, len(payloads) + 1))
    assert [p["type"] for p in payloads if p["type"] in wanted] == wanted
    assert next(p for p in payloads if p["type"] == "product.delivered")["data"]["licenses"] == [key]


def test_web_service_failing_twice_then_answering_delivers(client, shop):
    merchant, _, _ = shop
    product = client.new_product(merchant["api_key"], name="Web Service Product")
    calls = []

    def license_service(req):
        calls.append(req)
        if len(calls) <= 2:
            return 503, {}, b"busy"
        body = req.json()
        keys = [f"WS-{body['line_id']}-{i}" for i in range(body["quantity"])]
        return 200, {"Content-Type": "application/json"}, json.dumps({"licenses": keys}).encode()

    with Receiver(license_service) as service:
        source = set_source(client, merchant, product, method="web_service", url=f"{service.url}/licenses")
        checkout = buy(client, merchant, product, quantity=2)
        client.wait_order(checkout["order_id"], merchant["api_key"], lambda o: o["delivery_status"] == "delivered")
    [line] = client.deliveries(checkout)
    assert line["method"] == "web_service" and len(line["licenses"]) == 2
    assert len(calls) == 3
    Webhook(source["secret"]).verify(calls[-1].body, calls[-1].headers)  # signed like a webhook


def test_web_service_answering_4xx_falls_back_to_manual_and_the_merchant_delivers(client, platform, shop):
    merchant, receiver, _ = shop
    product = client.new_product(merchant["api_key"], name="Refusing Service Product")
    with Receiver(lambda _req: (400, {}, b'{"error": "unknown product"}')) as service:
        set_source(client, merchant, product, method="web_service", url=f"{service.url}/licenses")
        checkout = buy(client, merchant, product)
        from tillkey.devtools.launcher import wait_until
        [line] = wait_until(lambda: [d for d in client.deliveries(checkout) if d["status"] == "awaiting_merchant"],
                            20, "the line to await the merchant")
    assert line["method"] == "manual" and line["reason"]
    receiver.wait_for(lambda _: any(r.json()["type"] == "license.requested"
                                    for r in webhooks_of(receiver, checkout["order_id"])))
    wait_until(lambda: len(mails_about(platform, checkout["order_id"], "license_request")) == 1, 20,
               "the merchant's license request email")

    client.call("fulfillment", "POST", f"/v1/orders/{checkout['order_id']}/lines/{line['line_id']}/licenses",
                merchant["api_key"], json={"keys": ["HAND-MADE-1"]}, expect=200)
    client.wait_order(checkout["order_id"], merchant["api_key"], lambda o: o["delivery_status"] == "delivered")
    assert len(mails_about(platform, checkout["order_id"], "license_request")) == 1


def test_an_order_of_an_email_product_and_a_pool_product(client, shop):
    merchant, _, _ = shop
    info = client.new_product(merchant["api_key"], name="Guide")
    pooled = client.new_product(merchant["api_key"], name="Pooled")
    set_source(client, merchant, info, method="email", text="Download at https://example.com/guide")
    set_source(client, merchant, pooled, method="pool")
    upload(client, merchant, pooled, ["MIX-1"])
    checkout = buy(client, merchant, lines=[(info["product_id"], 1), (pooled["product_id"], 1)])
    client.wait_order(checkout["order_id"], merchant["api_key"], lambda o: o["delivery_status"] == "delivered")
    by_product = {d["product_id"]: d for d in client.deliveries(checkout)}
    assert by_product[info["product_id"]]["method"] == "email" and by_product[info["product_id"]]["licenses"] == []
    assert by_product[pooled["product_id"]]["licenses"] == ["MIX-1"]


def test_five_concurrent_orders_on_a_pool_of_three(client, shop):
    merchant, _, _ = shop
    product = client.new_product(merchant["api_key"], name="Scarce")
    set_source(client, merchant, product, method="pool")
    upload(client, merchant, product, ["S-1", "S-2", "S-3"])
    checkouts = [client.checkout(product["product_id"]) for _ in range(5)]
    threads = [threading.Thread(target=client.pay_when_ready, args=(c,)) for c in checkouts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    from tillkey.devtools.launcher import wait_until

    def settled():
        lines = [client.deliveries(c)[0] for c in checkouts]
        return lines if all(line["status"] != "pending" for line in lines) else None

    lines = wait_until(settled, 40, "every line to settle")
    delivered = [line for line in lines if line["status"] == "delivered"]
    assert len(delivered) == 3 and len(lines) - len(delivered) == 2
    assert sorted(k for line in delivered for k in line["licenses"]) == ["S-1", "S-2", "S-3"]
    assert all(line["status"] == "awaiting_merchant" for line in lines if line not in delivered)
