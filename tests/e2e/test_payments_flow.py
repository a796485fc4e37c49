"""Issue 3 through the real processes: card, declined card, bank transfer, switching, 5xx-twice."""
import json
import time

import pytest

from tillkey.contracts import signing
from tillkey.payments.sandbox.settings import DEFAULT_SECRET as SANDBOX_SECRET
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


def events_of_type(receiver, order_id, type):
    return [e for e in events_of(receiver, order_id) if e["type"] == type]


def wait_event(receiver, order_id, type):
    """The webhooks of `type` about the order, once at least one arrived."""
    return receiver.wait_for(lambda _: events_of_type(receiver, order_id, type))


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


def _delivered_notifications(platform, kind: str) -> list[tuple[str, str]]:
    """(id, body) of what the sandbox gateway already delivered to payments, read from its store."""
    import sqlite3

    with sqlite3.connect(platform.config.data_dir / "sandbox.db") as db:
        rows = db.execute("SELECT notification_id, body FROM notifications WHERE status = 'delivered'").fetchall()
    return [(nid, body) for nid, body in rows if json.loads(body)["type"] == kind]


def test_a_replayed_gateway_notification_changes_nothing(client, shop, platform):
    merchant, product, receiver = shop
    checkout = client.checkout(product["product_id"])
    client.pay_when_ready(checkout)
    client.wait_order(checkout["order_id"], merchant["api_key"], lambda o: o["status"] == "paid")
    wait_event(receiver, checkout["order_id"], "payment.succeeded")
    reference = client.payments(checkout)[0]["payment_id"]
    [(nid, body)] = [(n, b) for n, b in _delivered_notifications(platform, "charge.succeeded") if reference in b]

    # The same notification again, freshly signed as the gateway would on a retry.
    headers = signing.headers([SANDBOX_SECRET], nid, int(time.time()), body)
    resp = client.http.post(f"{platform.config.url('payments')}/v1/gateways/sandbox/notifications",
                            data=body, headers={**headers, "Content-Type": "application/json"}, timeout=10)
    assert resp.status_code == 200
    time.sleep(1.0)  # give a wrongly accepted replay time to show
    assert [p["status"] for p in client.payments(checkout)] == ["succeeded"]
    assert len(events_of_type(receiver, checkout["order_id"], "payment.succeeded")) == 1


def test_a_forged_gateway_notification_is_refused(client, shop, platform):
    merchant, product, _ = shop
    checkout = client.checkout(product["product_id"], payment_method="bank_transfer")
    transfer = client.pay_when_ready(checkout, method="bank_transfer")
    body = json.dumps({"id": "ntf_forged", "type": "charge.succeeded", "created_at": "2026-11-27T10:00:00Z",
                       "data": {"charge_id": "ch_forged", "reference": transfer["payment_id"], "amount": 4900,
                                "currency": "EUR", "status": "succeeded"}})
    forged = signing.headers([signing.new_secret()], "ntf_forged", int(time.time()), body)
    resp = client.http.post(f"{platform.config.url('payments')}/v1/gateways/sandbox/notifications",
                            data=body, headers={**forged, "Content-Type": "application/json"}, timeout=10)
    assert resp.status_code == 401
    assert client.order(checkout["order_id"], merchant["api_key"])["status"] == "not_paid"
    assert [p["status"] for p in client.payments(checkout)] == ["awaiting_funds"]
