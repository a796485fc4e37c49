"""Card testing against the real platform, with its limits set low (issue 18): payment attempts per
order and sandbox tokens per address end in 429 problem+json with Retry-After."""
import time

import pytest

pytestmark = pytest.mark.e2e

DECLINED = "4000000000000002"
# Hours, not minutes: a slow run must not see a window end halfway through.
PLATFORM_ENV = {"RATE_LIMIT_PAYMENTS_PER_ORDER": "3/hour", "RATE_LIMIT_PER_ADDRESS": "8/hour"}


def _refused(resp) -> None:
    assert resp.status_code == 429, resp.text
    assert resp.headers["Content-Type"] == "application/problem+json" and resp.json()["code"] == "rate_limited"
    assert int(resp.headers["Retry-After"]) >= 1


def _attempt(client, checkout: dict, token: str):
    """One card attempt, repeated only while payments has not heard of the order (those do not count)."""
    deadline = time.monotonic() + 30
    while True:
        resp = client.call("payments", "POST", f"/v1/orders/{checkout['order_id']}/payments",
                           params={"token": checkout["order_token"]},
                           json={"method": "card", "payment_token": token})
        if resp.status_code != 409 or resp.json()["code"] != "order_not_ready" or time.monotonic() > deadline:
            return resp
        time.sleep(0.2)


def test_card_testing_on_one_order_and_tokens_from_one_address_are_stopped(client):
    merchant = client.new_merchant()
    product = client.new_product(merchant["api_key"])
    checkout = client.checkout(product["product_id"])
    for _ in range(3):
        assert _attempt(client, checkout, client.card_token(DECLINED)).status_code == 201
    _refused(_attempt(client, checkout, client.card_token(DECLINED)))
    # Another order of the same customer is not held back by this one's count.
    other = client.checkout(product["product_id"])
    assert client.pay_when_ready(other, method="bank_transfer")["status"] == "awaiting_funds"
    # The sandbox counts tokens per address: eight an hour here, four made so far.
    for _ in range(4):
        client.card_token()
    refused = client.call("sandbox", "POST", "/v1/tokens", json={
        "number": "4242424242424242", "exp_month": 12, "exp_year": 2040, "cvc": "123"})
    _refused(refused)
    assert refused.headers["Access-Control-Allow-Origin"] == "*"  # the page's script can read why
