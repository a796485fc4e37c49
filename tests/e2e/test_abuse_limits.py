"""Card testing against the real platform, with its limits set low (issue 18): payment attempts per
order and sandbox tokens per address end in 429 problem+json with Retry-After."""
import pytest

pytestmark = pytest.mark.e2e

DECLINED = "4000000000000002"
PLATFORM_ENV = {"RATE_LIMIT_PAYMENTS_PER_ORDER": "3/hour", "RATE_LIMIT_PER_ADDRESS": "8/minute"}


def _refused(resp) -> None:
    assert resp.status_code == 429, resp.text
    assert resp.headers["Content-Type"] == "application/problem+json" and resp.json()["code"] == "rate_limited"
    assert int(resp.headers["Retry-After"]) >= 1


def test_card_testing_on_one_order_and_tokens_from_one_address_are_stopped(client):
    merchant = client.new_merchant()
    product = client.new_product(merchant["api_key"])
    checkout = client.checkout(product["product_id"])
    # "Not ready yet" answers while payments learns of the order use up nothing; three cards do.
    for _ in range(3):
        assert client.pay_when_ready(checkout, card=DECLINED)["status"] in ("pending", "failed")
    token = client.card_token(DECLINED)  # the fourth token of this address
    fourth = client.call("payments", "POST", f"/v1/orders/{checkout['order_id']}/payments",
                         params={"token": checkout["order_token"]}, json={"method": "card", "payment_token": token})
    _refused(fourth)
    # Another order of the same customer is not held back by this one's count.
    other = client.checkout(product["product_id"])
    assert client.pay_when_ready(other, method="bank_transfer")["status"] == "awaiting_funds"
    # The sandbox counts tokens per address: eight a minute here, five made so far.
    for _ in range(3):
        client.card_token()
    refused = client.call("sandbox", "POST", "/v1/tokens", json={
        "number": "4242424242424242", "exp_month": 12, "exp_year": 2040, "cvc": "123"})
    _refused(refused)
    assert refused.headers["Access-Control-Allow-Origin"] == "*"  # the page's script can read why
