"""Issue 7: an unpaid order is reminded once, then deleted, and no service keeps the customer."""
import uuid

import pytest

from tillkey.devtools.launcher import wait_until
from tillkey.platform.db import make_engine
from tillkey.testing.erasure import find_text
from tillkey.testing.receiver import Receiver

pytestmark = pytest.mark.e2e

PLATFORM_ENV = {"UNPAID_REMINDER_AFTER": "2s", "UNPAID_ORDER_TTL": "8s", "SCHEDULER_INTERVAL": "1s",
                "OUTBOX_RETENTION": "1s"}
SERVICES = ("orders", "payments", "fulfillment", "notifications", "webhooks")


def traces(platform, *needles):
    found = []
    for service in SERVICES:
        engine = make_engine(platform.config.database_url(service))
        try:
            found += [(service, t) for needle in needles for t in find_text(engine, needle)]
        finally:
            engine.dispose()
    return found


def test_unpaid_order_is_reminded_once_then_deleted_everywhere(platform, client):
    merchant = client.new_merchant()
    product = client.new_product(merchant["api_key"])
    email, surname = f"forget.me.{uuid.uuid4().hex[:8]}@example.com", f"Surname{uuid.uuid4().hex[:8]}"
    with Receiver() as receiver:
        client.new_endpoint(merchant["api_key"], f"{receiver.url}/hooks")
        checkout = client.checkout(product["product_id"], email=email, last_name=surname,
                                   payment_method="bank_transfer")
        order_id = checkout["order_id"]
        wait_until(lambda: traces(platform, email), 20, "the customer's data to reach the services")

        order = client.wait_order(order_id, merchant["api_key"], lambda o: o["status"] == "deleted", timeout=40)
        assert order["customer"]["email"] is None and order["customer"]["last_name"] is None
        assert order["total"] == 4900 and len(order["lines"]) == 1  # kept for accounting

        deleted = receiver.wait_for(lambda reqs: [r for r in reqs if r.json()["type"] == "order.deleted"
                                                  and r.json()["data"]["order_id"] == order_id])
        assert len(deleted) == 1

    reminders = [m for m in platform.mails() if m["X-Tillkey-Template"] == "payment_reminder" and m["To"] == email]
    assert len(reminders) == 1

    # The customer's token no longer opens the order, and paying it is refused.
    client.call("orders", "GET", f"/v1/orders/{order_id}", params={"token": checkout["order_token"]}, expect=404)
    wait_until(lambda: client.try_bank_transfer(checkout) in (404, 409, 410), 20,
               "payments to refuse the deleted order")

    # No database of any service still holds the customer (outboxes included, once pruned).
    try:
        wait_until(lambda: not traces(platform, email, surname), 30, "every copy of the customer to be erased")
    except TimeoutError:
        raise AssertionError(f"copies left: {traces(platform, email, surname)}") from None
