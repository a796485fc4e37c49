"""Manual delivery through the API, email sources, and an order whose lines use different sources."""
from __future__ import annotations

import pytest

from tillkey.testing.messaging import running, wait_until
from tillkey.testing.receiver import Receiver

from .conftest import ADMIN, bearer, deliveries, emitted, know_product, merchant_headers, pay, place_order

pytestmark = pytest.mark.integration
ORDER = "ord_man1"
LINE_URL = f"/v1/orders/{ORDER}/lines/line_m1/licenses"


def set_source(client, product_id, body):
    resp = client.put(f"/v1/products/{product_id}/license-source", json=body, headers=merchant_headers())
    assert resp.status_code == 200, resp.get_json()


@pytest.fixture
def awaiting(service, client):
    """A paid line of a product with a manual source, waiting for the merchant."""
    know_product(service, "prod_man1")
    set_source(client, "prod_man1", {"method": "manual"})
    place_order(service, ORDER, [("line_m1", "prod_man1", 2)])
    pay(service, ORDER)


def test_a_manual_line_asks_the_merchant(service, awaiting):
    line = deliveries(service, ORDER)["line_m1"]
    assert (line.status, line.method, line.reason) == ("awaiting_merchant", "manual",
                                                       "the product's license source is manual")
    assert emitted(service, "license.requested") == [
        {"order_id": ORDER, "merchant_id": "mer_7Yb2kQ9xTz", "line_id": "line_m1", "product_id": "prod_man1",
         "quantity": 2, "reason": "the product's license source is manual"}]


def test_no_source_at_all_is_manual_too(service):
    place_order(service, ORDER, [("line_m1", "prod_neverSeen1", 1)])
    pay(service, ORDER)
    line = deliveries(service, ORDER)["line_m1"]
    assert (line.status, line.reason) == ("awaiting_merchant", "no license source is configured for the product")


def test_the_merchant_delivers_the_line(service, client, awaiting):
    resp = client.post(LINE_URL, json={"keys": ["M-1", " M-2 "]}, headers=merchant_headers())
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["line_id"], body["status"], body["method"], body["licenses"]) == (
        "line_m1", "delivered", "manual", ["M-1", "M-2"])
    assert body["delivered_at"].endswith("Z")
    [event] = emitted(service, "product.delivered")
    assert (event["method"], event["licenses"], event["line_id"]) == ("manual", ["M-1", "M-2"], "line_m1")
    seen = client.get(f"/v1/orders/{ORDER}/deliveries", headers=merchant_headers()).get_json()["data"][0]
    assert (seen["status"], seen["licenses"]) == ("delivered", ["M-1", "M-2"])
    again = client.post(LINE_URL, json={"keys": ["X-1", "X-2"]}, headers=merchant_headers())
    assert again.status_code == 409 and again.get_json()["code"] == "conflict"
    assert len(emitted(service, "product.delivered")) == 1


@pytest.mark.parametrize("keys", [["ONLY-ONE"], ["A", "B", "C"]])
def test_the_key_count_must_equal_the_quantity(service, client, awaiting, keys):
    resp = client.post(LINE_URL, json={"keys": keys}, headers=merchant_headers())
    assert resp.status_code == 422 and "quantity 2" in resp.get_json()["errors"]["keys"][0]
    assert deliveries(service, ORDER)["line_m1"].status == "awaiting_merchant"


def test_who_may_deliver(service, client, awaiting):
    keys = {"keys": ["A", "B"]}
    assert client.post(LINE_URL, json=keys).status_code == 401
    assert client.post(LINE_URL, json=keys, headers=bearer(ADMIN)).status_code == 403
    assert client.post(LINE_URL, json=keys, headers=merchant_headers("mer_someoneElse1")).status_code == 404
    assert client.post(f"/v1/orders/{ORDER}/lines/line_nope/licenses", json=keys,
                       headers=merchant_headers()).status_code == 404
    assert client.post("/v1/orders/ord_nope/lines/line_m1/licenses", json=keys,
                       headers=merchant_headers()).status_code == 404
    assert deliveries(service, ORDER)["line_m1"].status == "awaiting_merchant"


def test_an_unpaid_line_cannot_be_delivered_yet(service, client):
    place_order(service, "ord_unpaid1", [("line_u1", "prod_x1", 1)])
    resp = client.post("/v1/orders/ord_unpaid1/lines/line_u1/licenses", json={"keys": ["A"]},
                       headers=merchant_headers())
    assert resp.status_code == 409 and "not paid" in resp.get_json()["detail"]


def test_an_email_source_delivers_its_text_and_no_license(service, client):
    know_product(service, "prod_mail1")
    set_source(client, "prod_mail1", {"method": "email", "text": "Download at https://x.example/dl"})
    place_order(service, ORDER, [("line_m1", "prod_mail1", 1)])
    pay(service, ORDER)
    line = deliveries(service, ORDER)["line_m1"]
    assert (line.status, line.method, line.licenses) == ("delivered", "email", [])
    [event] = emitted(service, "product.delivered")
    assert (event["method"], event["licenses"], event["text"]) == ("email", [], "Download at https://x.example/dl")


def test_an_order_of_two_products_with_different_sources(service, client, license_worker):
    know_product(service, "prod_two1")
    know_product(service, "prod_two2")
    set_source(client, "prod_two1", {"method": "pool", "low_stock_threshold": 0})
    client.post("/v1/products/prod_two1/licenses", json={"keys": ["P-1"]}, headers=merchant_headers())
    with Receiver(lambda req: (200, {}, b'{"licenses": ["W-1", "W-2"]}')) as merchant:
        set_source(client, "prod_two2", {"method": "web_service", "url": merchant.url})
        place_order(service, ORDER, [("line_a", "prod_two1", 1), ("line_b", "prod_two2", 2)])
        pay(service, ORDER)
        with running(worker=license_worker):
            wait_until(lambda: deliveries(service, ORDER)["line_b"].status == "delivered", timeout=20,
                       what="the web-service line delivered")
    got = deliveries(service, ORDER)
    assert (got["line_a"].method, got["line_a"].licenses) == ("pool", ["P-1"])
    assert (got["line_b"].method, got["line_b"].licenses) == ("web_service", ["W-1", "W-2"])
    assert sorted(e["line_id"] for e in emitted(service, "product.delivered")) == ["line_a", "line_b"]
    # Delivering everything is orders' to announce (order.delivered): fulfillment never emits it.
    assert emitted(service, "order.delivered") == []


def test_a_second_payment_event_starts_nothing_twice(service, client, awaiting):
    pay(service, ORDER)
    assert len(emitted(service, "license.requested")) == 1
