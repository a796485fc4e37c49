"""Issue 17 through the real processes: a product with generated keys is bought, the key reaches the
customer's email and order page, docs/examples/license_client.py verifies it offline and activates it
online up to its limit, a full refund revokes it, and the merchant receives every webhook, signed."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from tillkey.devtools.launcher import wait_until
from tillkey.testing.receiver import Receiver

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "license_client.py"
LICENSE_EVENTS = ("license.activated", "license.deactivated", "license.revoked")
PLATFORM_ENV = {"RATE_LIMIT_LICENSE_CALLS_PER_KEY": "20/minute"}


@pytest.fixture
def shop(client):
    merchant = client.new_merchant()
    product = client.new_product(merchant["api_key"], name="Editor Pro", prices={"EUR": 5000})
    source = client.call("fulfillment", "PUT", f"/v1/products/{product['product_id']}/license-source",
                         merchant["api_key"], json={"method": "generated", "prefix": "EDPRO", "activation_limit": 2,
                                                    "valid_days": 365}, expect=200).json()
    with Receiver() as receiver:
        endpoint = client.new_endpoint(merchant["api_key"], f"{receiver.url}/hooks")
        yield merchant, product, source, receiver, endpoint


def example(tmp_path, server, key, command, *args, machine="laptop"):
    """The example application, as its user runs it on `machine`: one JSON answer and an exit code."""
    run = subprocess.run([sys.executable, str(EXAMPLE), command, "--server", server, "--key", key,
                          "--public-key", str(tmp_path / "product.pem"), "--state", str(tmp_path / f"{machine}.json"),
                          *args], capture_output=True, text=True, timeout=60)
    assert run.stdout, run.stderr
    return run.returncode, json.loads(run.stdout)


def webhooks(receiver, order_id, endpoint):
    verify = Webhook(endpoint["secret"]).verify
    return sorted((verify(r.body, r.headers) for r in receiver.snapshot()
                   if r.json()["data"].get("order_id") == order_id), key=lambda p: p["sequence"])


def test_a_generated_key_is_delivered_verified_offline_activated_to_its_limit_and_revoked_by_a_refund(
        client, platform, shop, tmp_path):
    merchant, product, source, receiver, endpoint = shop
    checkout = client.checkout(product["product_id"], email="editor.buyer@example.com")
    client.pay_when_ready(checkout)
    order_id = checkout["order_id"]
    client.wait_order(order_id, merchant["api_key"], lambda o: o["delivery_status"] == "delivered")
    [line] = client.deliveries(checkout)
    [key], [token] = line["licenses"], line["license_tokens"]
    assert line["method"] == "generated" and key.startswith("EDPRO-") and len(key.split("-")) == 6

    # The customer sees the key in the license email and on the order page.
    wait_until(lambda: [m for m in platform.mails() if m["X-Tillkey-Template"] == "license_delivery"
                        and key in m.get_body(("plain",)).get_content()], 20, "the license email with the key")
    page = client.call("orders", "GET", f"/orders/{order_id}", params={"token": checkout["order_token"]}, expect=200)
    assert key in page.text

    # Offline: the application verifies the token with the product's public key, no server needed.
    (tmp_path / "product.pem").write_text(source["public_key"])
    nowhere, server = "http://127.0.0.1:9", platform.config.url("fulfillment")
    code, verified = example(tmp_path, nowhere, key, "verify", "--token", token,
                             "--product-id", product["product_id"])
    assert code == 0 and verified["verified"] and verified["claims"]["activation_limit"] == 2
    code, wrong = example(tmp_path, nowhere, "EDPRO-00000-00000-00000-00000-00000", "verify")
    assert code == 1 and not wrong["verified"]  # another key: the token is not its

    # Online: two machines, a third refused, one released, the third again.
    code, first = example(tmp_path, server, key, "start", "--instance-name", "laptop", "--fingerprint", "fp-1")
    assert code == 0 and first["licensed"] and first["how"] == "online" and first["activations"] == 1
    code, restart = example(tmp_path, server, key, "start")
    assert code == 0 and restart["how"] == "offline"  # the next start needs no network
    code, second = example(tmp_path, server, key, "activate", "--instance-name", "desktop", "--fingerprint", "fp-2",
                           machine="desktop")
    assert code == 0 and second["activations"] == 2
    code, third = example(tmp_path, server, key, "activate", "--instance-name", "server", "--fingerprint", "fp-3",
                          machine="server")
    assert code == 1 and third["status"] == 409 and third["code"] == "activation_limit_reached"
    code, released = example(tmp_path, server, key, "deactivate")
    assert code == 0 and released["activation_id"] == first["activation_id"]
    code, third = example(tmp_path, server, key, "activate", "--instance-name", "server", "--fingerprint", "fp-3",
                          machine="server")
    assert code == 0 and third["activations"] == 2
    assert example(tmp_path, server, key, "validate")[1]["status"] == "valid"

    # A full refund revokes the key.
    client.call("orders", "POST", f"/v1/orders/{order_id}/refund", merchant["api_key"],
                json={"reason": "changed their mind"}, expect=202)
    client.wait_order(order_id, merchant["api_key"], lambda o: o["status"] == "refunded")
    wait_until(lambda: example(tmp_path, server, key, "validate")[1]["status"] == "revoked", 30,
               "validation to say revoked")
    code, refused = example(tmp_path, server, key, "activate", "--fingerprint", "fp-4", machine="other")
    assert code == 1 and refused["code"] == "license_revoked"

    # The merchant received every event of the order, signed, numbered without a gap.
    wait_until(lambda: "license.revoked" in [p["type"] for p in webhooks(receiver, order_id, endpoint)], 30,
               "the license.revoked webhook")
    payloads = webhooks(receiver, order_id, endpoint)
    assert [p["sequence"] for p in payloads] == list(range(1, len(payloads) + 1))
    license_events = [(p["type"], p["data"].get("activations"), p["data"].get("reason")) for p in payloads
                      if p["type"] in LICENSE_EVENTS]
    assert license_events == [("license.activated", 1, None), ("license.activated", 2, None),
                              ("license.deactivated", 1, "customer"), ("license.activated", 2, None),
                              ("license.revoked", None, "refund")]
    assert all("fingerprint" not in json.dumps(p["data"]) for p in payloads)

    # Guesses: not_found, like any key we never issued.
    guess = "EDPRO-" + "-".join(["ABCDE"] * 5)
    assert example(tmp_path, server, guess, "validate")[1]["status"] == "not_found"


def test_guessing_keys_through_the_public_entry_is_not_found_then_rate_limited(client):
    """RATE_LIMIT_LICENSE_CALLS_PER_KEY is 20/minute here (PLATFORM_ENV): the 21st try of one key is a 429."""
    guess = {"key": "EDPRO-" + "-".join(["QQQQQ"] * 5)}
    answers = [client.call("fulfillment", "POST", "/v1/licenses/validate", json=guess) for _ in range(22)]
    assert [a.json()["status"] for a in answers[:20]] == ["not_found"] * 20
    assert answers[-1].status_code == 429 and answers[-1].json()["code"] == "rate_limited"
    assert int(answers[-1].headers["Retry-After"]) >= 1
    other = client.call("fulfillment", "POST", "/v1/licenses/validate", json={"key": "EDPRO-OTHER"})
    assert other.status_code == 200  # another key is counted on its own (the address limit is far)
