"""Orders' consumer on the real broker with golden samples: out-of-order, duplicates, refusals."""
import dataclasses
import json

import pytest

from tillkey.orders.bootstrap import build_workers
from tillkey.orders.entrypoints.app import create_app
from tillkey.platform.ids import new_id
from tillkey.testing.messaging import (
    CountingHandler,
    declare_fresh,
    publish,
    queue_depth,
    running,
    sample_envelope,
    wait_until,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def worker(settings, amqp_url, clock):
    """The real worker's consumer (and relay) on this test's database, queues emptied first."""
    workers = build_workers(dataclasses.replace(settings, amqp_url=amqp_url), clock=clock)
    consumer = workers["consumer"]
    declare_fresh(amqp_url, consumer.topology)
    consumer._handle = CountingHandler(consumer._handle)  # noqa: SLF001 — to wait for "handled" in tests
    return consumer


def order_status(client, admin, order_id):
    return client.get(f"/v1/orders/{order_id}", headers=admin).json


def test_payment_before_its_order_is_retried_then_applied(settings, clock, amqp_url, worker, admin,
                                                          make_product, checkout_body):
    # The order id is known before the order exists: the payment event overtakes order creation.
    order_id = new_id("ord")
    app = create_app(settings, clock=clock, new_id=lambda prefix: order_id if prefix == "ord" else new_id(prefix))
    client = app.test_client()
    event = sample_envelope("payment.succeeded", new_id=True, order_id=order_id, amount=4900)
    with running(consumer=worker):
        publish(amqp_url, event)
        wait_until(lambda: event.id in worker._handle.seen, what="the first try")  # noqa: SLF001
        pid = client.post("/v1/products", json={"name": "Editor", "prices": {"EUR": 4900}, "default_currency": "EUR"},
                          headers=_merchant_headers(client, admin)).json["product_id"]
        cart = client.post("/v1/carts", json={"lines": [{"product_id": pid, "quantity": 1}]}).json
        assert client.post(f"/v1/carts/{cart['cart_id']}/checkout", json=checkout_body).json["order_id"] == order_id
        paid = wait_until(lambda: order_status(client, admin, order_id)["status"] == "paid", timeout=20,
                          what="the retried payment applied")
        assert paid
    assert worker._handle.seen.count(event.id) >= 2  # noqa: SLF001 — once refused, then applied
    assert queue_depth(amqp_url, worker.topology.dead_queue) == 0
    app.extensions["tillkey.orders"].engine.dispose()


def _merchant_headers(client, admin):
    resp = client.post("/v1/merchants", json={"name": "Acme", "email": "a@acme.example"}, headers=admin)
    return {"Authorization": f"Bearer {resp.json['api_key']}"}


def test_the_flow_with_duplicates_has_one_effect(client, db, admin, amqp_url, worker, place_order):
    order = place_order((1, 2))["order"]
    oid, mid = order["order_id"], order["merchant_id"]
    first, second = order["lines"]
    paid = sample_envelope("payment.succeeded", new_id=True, order_id=oid, merchant_id=mid, amount=order["total"])
    failed = sample_envelope("payment.failed", new_id=True, order_id=oid, merchant_id=mid)
    requested = sample_envelope("license.requested", new_id=True, order_id=oid, merchant_id=mid,
                                line_id=second["line_id"], product_id=second["product_id"], quantity=2)
    line_one = sample_envelope("product.delivered", new_id=True, order_id=oid, merchant_id=mid,
                               line_id=first["line_id"], product_id=first["product_id"], quantity=1,
                               method="email", licenses=[], text="Download at https://acme.example/dl")
    line_two = sample_envelope("product.delivered", new_id=True, order_id=oid, merchant_id=mid,
                               line_id=second["line_id"], product_id=second["product_id"], quantity=2,
                               method="manual", licenses=["M-1", "M-2"])
    # The same news again under another id: the order's guards, not only the inbox, absorb it.
    line_two_again = dataclasses.replace(line_two, id="evt_" + new_id("x")[2:])
    with running(consumer=worker):
        publish(amqp_url, failed)
        publish(amqp_url, paid, times=2)
        wait_until(lambda: order_status(client, admin, oid)["status"] == "paid", what="paid")
        publish(amqp_url, requested)
        wait_until(lambda: order_status(client, admin, oid)["lines"][1]["delivery_status"] == "awaiting_merchant",
                   what="the line awaits the merchant")
        publish(amqp_url, line_one, times=2)
        wait_until(lambda: order_status(client, admin, oid)["delivery_status"] == "partially_delivered",
                   what="partially delivered")
        publish(amqp_url, line_two, times=2)
        publish(amqp_url, line_two_again)
        wait_until(lambda: worker._handle.seen.count(line_two_again.id) == 1, what="all handled")  # noqa: SLF001
        wait_until(lambda: len(worker._handle.seen) == 9, what="every message handled")  # noqa: SLF001
    seen = order_status(client, admin, oid)
    assert (seen["status"], seen["delivery_status"]) == ("paid", "delivered")
    assert [line["delivery_status"] for line in seen["lines"]] == ["delivered", "delivered"]
    assert seen["paid_at"] == "2026-11-27T10:00:00.000Z" and seen["delivered_at"]
    assert [json.loads(b)["data"] for b in db.outbox("order.delivered")] == [{"order_id": oid, "merchant_id": mid}]
    delivered = json.loads(db.outbox("order.delivered")[0])
    assert delivered["causation_id"] in (line_two.id, line_two_again.id)
    assert queue_depth(amqp_url, worker.topology.dead_queue) == 0


def test_a_payment_for_a_canceled_order_is_refused_without_crashing(client, db, admin, amqp_url, worker,
                                                                    place_order):
    order = place_order()["order"]
    client.post(f"/v1/orders/{order['order_id']}/cancel", json={"reason": "asked"}, headers=admin)
    late = sample_envelope("payment.succeeded", new_id=True, order_id=order["order_id"],
                           merchant_id=order["merchant_id"], amount=order["total"])
    after = sample_envelope("payment.failed", new_id=True, order_id=order["order_id"],
                            merchant_id=order["merchant_id"])
    with running(consumer=worker):
        publish(amqp_url, late)
        publish(amqp_url, after)
        wait_until(lambda: after.id in worker._handle.seen, what="both handled")  # noqa: SLF001
        assert worker.ready                             # still consuming
    assert order_status(client, admin, order["order_id"])["status"] == "canceled"
    assert queue_depth(amqp_url, worker.topology.dead_queue) == 0


def test_refund_answers_through_the_broker(client, admin, amqp_url, worker, place_order, pay):
    order = place_order((2,))["order"]
    pay(order)
    url = f"/v1/orders/{order['order_id']}/refund"
    part = client.post(url, json={"amount": 1800, "reason": "r"}, headers=admin).json
    rest = client.post(url, json={"reason": "r"}, headers=admin).json
    ok = sample_envelope("payment.refunded", new_id=True, order_id=order["order_id"],
                         merchant_id=order["merchant_id"], refund_id=part["refund_id"], amount=1800)
    no = sample_envelope("refund.failed", new_id=True, order_id=order["order_id"],
                         merchant_id=order["merchant_id"], refund_id=rest["refund_id"], amount=rest["amount"])
    with running(consumer=worker):
        publish(amqp_url, ok, times=2)
        publish(amqp_url, no, times=2)
        wait_until(lambda: len(worker._handle.seen) == 4, what="the answers handled")  # noqa: SLF001
    seen = order_status(client, admin, order["order_id"])
    assert (seen["status"], seen["refunded_amount"]) == ("paid", 1800)
    again = client.post(url, json={"reason": "r"}, headers=admin)
    assert again.status_code == 202 and again.json["amount"] == 9800 - 1800
