"""Issue 3 through the real processes: card, declined card, bank transfer, switching, 5xx-twice."""
import pytest

from tillkey.testing.receiver import Receiver

pytestmark = pytest.mark.e2e

DECLINED, FLAKY_GATEWAY = "4000000000000002", "4000000000000119"


@pytest.fixture
def shop(client):
    merchant = client.new_merchant()
    product = client.new_product(merchant["api_key"])
    with Receiver() as receiver:
        client.new_endpoint(merchant["api_key"], f"{receiver.url}/hooks")
        yield merchant, product, receiver


def events_of(receiver, order_id):
    return [r.json() for r in receiver.snapshot() if r.json()["data"].get("order_id") == order_id]


def wait_event(receiver, order_id, type):
    """The webhooks of `type` about the order, once at least one arrived."""
    return receiver.wait_for(lambda _: [e for e in events_of(receiver, order_id) if e["type"] == type])


def test_card_payment_makes_the_order_paid_and_tells_the_merchant(client, shop):
    merchant, product, receiver = shop
    checkout = client.checkout(product["product_id"])
    attempt = client.pay_when_ready(checkout)
    assert attempt["status"] == "pending" and attempt["method"] == "card"

    order = client.wait_order(checkout["order_id"], merchant["api_key"], lambda o: o["status"] == "paid")
    assert order["paid_at"] is not None
    succeeded = wait_event(receiver, order["order_id"], "payment.succeeded")
    assert succeeded[0]["data"]["amount"] == order["total"]


def test_declined_card_fails_then_a_retry_succeeds(client, shop):
    merchant, product, receiver = shop
    checkout = client.checkout(product["product_id"])
    client.pay_when_ready(checkout, card=DECLINED)
    [failed] = wait_event(receiver, checkout["order_id"], "payment.failed")
    assert failed["data"]["failure"]["code"] == "card_declined"
    assert client.order(checkout["order_id"], merchant["api_key"])["status"] == "not_paid"

    client.pay(checkout)
    client.wait_order(checkout["order_id"], merchant["api_key"], lambda o: o["status"] == "paid")


def test_bank_transfer_then_switch_to_card_supersedes_the_transfer(client, shop):
    merchant, product, receiver = shop
    checkout = client.checkout(product["product_id"], payment_method="bank_transfer")
    transfer = client.pay_when_ready(checkout, method="bank_transfer")
    assert transfer["status"] == "awaiting_funds"
    instructions = transfer["instructions"]
    assert instructions["amount"] == 4900 and instructions["reference"] and instructions["iban"]
    wait_event(receiver, checkout["order_id"], "payment.pending")

    client.pay(checkout)
    client.wait_order(checkout["order_id"], merchant["api_key"], lambda o: o["status"] == "paid")
    statuses = {p["payment_id"]: p["status"] for p in client.payments(checkout)}
    assert statuses[transfer["payment_id"]] == "superseded"


def test_bank_transfer_confirmed_by_support_pays_the_order(client, shop, platform):
    merchant, product, _ = shop
    checkout = client.checkout(product["product_id"], payment_method="bank_transfer")
    transfer = client.pay_when_ready(checkout, method="bank_transfer")
    client.call("payments", "POST", f"/v1/payments/{transfer['payment_id']}/confirm",
                platform.config.admin_token, expect=200)
    client.wait_order(checkout["order_id"], merchant["api_key"], lambda o: o["status"] == "paid")
    # Paid is final for payments: a second attempt is refused.
    client.pay(checkout, expect=409)


def test_gateway_failing_twice_still_charges_exactly_once(client, shop):
    merchant, product, receiver = shop
    checkout = client.checkout(product["product_id"])
    client.pay_when_ready(checkout, card=FLAKY_GATEWAY)
    client.wait_order(checkout["order_id"], merchant["api_key"], lambda o: o["status"] == "paid")
    wait_event(receiver, checkout["order_id"], "payment.succeeded")
    succeeded = [p for p in client.payments(checkout) if p["status"] == "succeeded"]
    assert len(succeeded) == 1
    assert [e["type"] for e in events_of(receiver, checkout["order_id"])].count("payment.succeeded") == 1
