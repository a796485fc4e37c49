"""Issue 2's end-to-end promise: a checkout leads to a signed `order.created` at the merchant."""
import pytest
from standardwebhooks import Webhook

from tillkey.testing.receiver import Receiver

pytestmark = pytest.mark.e2e


def test_checkout_delivers_signed_order_created_carrying_the_order(platform, client):
    merchant = client.new_merchant()
    product = client.new_product(merchant["api_key"])
    with Receiver() as receiver:
        endpoint = client.new_endpoint(merchant["api_key"], f"{receiver.url}/hooks", ["order.created"])
        checkout = client.checkout(product["product_id"], quantity=2)
        order_id = checkout["order_id"]

        hits = receiver.wait_for(lambda reqs: [r for r in reqs if r.json()["data"]["order_id"] == order_id],
                                 timeout=20)
        assert len(hits) == 1
        hit = hits[0]
        payload = Webhook(endpoint["secret"]).verify(hit.body, hit.headers)  # raises if the signature is off
        assert hit.headers["webhook-id"] == payload["id"]
        assert payload["type"] == "order.created" and payload["sequence"] == 1

        shown = client.call("orders", "GET", f"/v1/orders/{order_id}", merchant["api_key"], expect=200).json()
        for field in ("order_id", "status", "delivery_status", "currency", "subtotal", "discount", "total",
                      "customer", "custom", "lines", "created_at"):
            assert payload["data"][field] == shown[field], field
        assert shown["status"] == "not_paid" and shown["total"] == 2 * 4900


def test_another_merchants_endpoint_hears_nothing(platform, client):
    ours, theirs = client.new_merchant("Ours"), client.new_merchant("Theirs")
    product = client.new_product(ours["api_key"])
    with Receiver() as mine, Receiver() as other:
        client.new_endpoint(ours["api_key"], f"{mine.url}/hooks")
        client.new_endpoint(theirs["api_key"], f"{other.url}/hooks")
        order_id = client.checkout(product["product_id"])["order_id"]
        mine.wait_for(lambda reqs: any(r.json()["data"]["order_id"] == order_id for r in reqs), timeout=20)
        assert other.snapshot() == []
