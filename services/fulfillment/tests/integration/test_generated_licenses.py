"""Source `generated` (issue 17) through the app and the consumer's handlers, on SQLite and PostgreSQL:
issuing, the public license API, the merchant's calls, refunds, erasure, brute force."""
from __future__ import annotations

import json
import statistics
import time

import pytest

from tillkey.fulfillment.adapters.license_crypto import load_public_key, verify_v4_public
from tillkey.fulfillment.config import LicenseRateLimits
from tillkey.fulfillment.domain.licensing import new_key
from tillkey.fulfillment.entrypoints.app import create_app
from tillkey.platform import credentials
from tillkey.testing.messaging import sample_envelope

from .conftest import SECRET, deliveries, emitted, know_product, merchant_headers, pay, place_order

pytestmark = pytest.mark.integration
PRODUCT = "prod_gen1"


def configure(client, **settings):
    resp = client.put(f"/v1/products/{PRODUCT}/license-source", json={"method": "generated", **settings},
                      headers=merchant_headers())
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def bought(service, order_id="ord_gen1", quantity=1):
    place_order(service, order_id, [(f"line_{order_id[4:]}", PRODUCT, quantity)])
    pay(service, order_id)
    [line] = deliveries(service, order_id).values()
    return line


@pytest.fixture
def source(service, client):
    know_product(service, PRODUCT)
    return configure(client, prefix="EDPRO", activation_limit=2, valid_days=365)


def post(client, action, **body):
    return client.post(f"/v1/licenses/{action}", json=body)


def test_the_source_shows_its_settings_and_public_key_never_the_private_one(client, source, service):
    assert source["method"] == "generated" and source["prefix"] == "EDPRO"
    assert (source["activation_limit"], source["valid_days"], source["revoke_on_refund"]) == (2, 365, True)
    assert source["public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    read = client.get(f"/v1/products/{PRODUCT}/license-source", headers=merchant_headers()).get_json()
    assert read["public_key"] == source["public_key"] and "PRIVATE" not in json.dumps(read)
    # Switching away and back keeps the key pair: software built with it keeps verifying.
    configure(client, prefix="OTHER")
    client.put(f"/v1/products/{PRODUCT}/license-source", json={"method": "manual"}, headers=merchant_headers())
    assert configure(client)["public_key"] == source["public_key"]
    defaults = configure(client)
    assert (defaults["prefix"], defaults["activation_limit"], defaults["valid_days"]) == ("KEY", None, None)


@pytest.mark.parametrize("bad", [{"prefix": "ed-pro"}, {"prefix": "A" * 13}, {"activation_limit": 0},
                                 {"valid_days": -1}, {"text": "x"}, {"activation_limit": "2"}])
def test_bad_generated_settings_are_refused(client, source, bad):
    resp = client.put(f"/v1/products/{PRODUCT}/license-source", json={"method": "generated", **bad},
                      headers=merchant_headers())
    assert resp.status_code == 422


def test_a_paid_line_gets_signed_keys_once_delivered_like_any_license(service, client, source):
    line = bought(service, quantity=2)
    assert line.status == "delivered" and line.method == "generated" and len(set(line.licenses)) == 2
    assert all(k.startswith("EDPRO-") for k in line.licenses)
    [event] = emitted(service, "product.delivered")
    assert event["method"] == "generated" and event["licenses"] == line.licenses
    pay(service, "ord_gen1")  # a second payment event: nothing issued twice
    assert len(emitted(service, "product.delivered")) == 1
    resp = client.get("/v1/orders/ord_gen1/deliveries", headers=merchant_headers()).get_json()
    [shown] = resp["data"]
    assert shown["licenses"] == line.licenses and len(shown["license_tokens"]) == 2
    public_key = load_public_key(source["public_key"])
    claims = [json.loads(verify_v4_public(public_key, t)) for t in shown["license_tokens"]]
    assert [c["product_id"] for c in claims] == [PRODUCT, PRODUCT] and claims[0]["activation_limit"] == 2
    assert claims[0]["exp"].startswith("2027-") or claims[0]["exp"] > claims[0]["iat"]


def test_validate_activate_to_the_limit_deactivate_and_activate_again(service, client, source):
    [key] = bought(service).licenses
    assert post(client, "validate", key=key).get_json()["status"] == "valid"
    first = post(client, "activate", key=key.lower(), instance_name="laptop", fingerprint="fp-1")
    assert first.status_code == 200 and first.get_json()["new"] is True
    assert first.get_json()["license"]["activations"] == 1
    again = post(client, "activate", key=key, instance_name="laptop", fingerprint="fp-1").get_json()
    assert again["new"] is False and again["activation_id"] == first.get_json()["activation_id"]
    second = post(client, "activate", key=key, instance_name="desktop", fingerprint="fp-2")
    assert second.status_code == 200 and second.get_json()["license"]["activations"] == 2
    third = post(client, "activate", key=key, instance_name="server", fingerprint="fp-3")
    assert third.status_code == 409 and third.get_json()["code"] == "activation_limit_reached"
    checked = post(client, "validate", key=key, instance_id=first.get_json()["activation_id"]).get_json()
    assert checked["activated"] is True and checked["license"]["activations"] == 2
    gone = post(client, "deactivate", key=key, instance_id=first.get_json()["activation_id"])
    assert gone.status_code == 200 and gone.get_json()["license"]["activations"] == 1
    assert post(client, "deactivate", key=key, instance_id=first.get_json()["activation_id"]).status_code == 404
    assert post(client, "activate", key=key, instance_name="server", fingerprint="fp-3").status_code == 200
    events = {t: emitted(service, t) for t in ("license.activated", "license.deactivated")}
    assert [e["activations"] for e in events["license.activated"]] == [1, 2, 2]
    assert events["license.deactivated"][0]["reason"] == "customer"
    assert "fp-1" not in json.dumps(events) and "laptop" not in json.dumps(events)  # personal: not in events


def test_unknown_keys_are_not_found_and_change_nothing(client, source, service):
    key = new_key("EDPRO")
    assert post(client, "validate", key=key).get_json() == {"status": "not_found", "license": None,
                                                            "activated": None}
    assert post(client, "activate", key=key, instance_name="x", fingerprint="y").status_code == 404
    assert post(client, "deactivate", key=key, instance_id="act_x").status_code == 404
    assert post(client, "validate", key="").status_code == 422
    assert emitted(service, "license.activated") == []


def test_merchant_revokes_reinstates_changes_the_limit_and_removes_activations(service, client, source):
    [key] = bought(service).licenses
    activation = post(client, "activate", key=key, instance_name="a", fingerprint="fa").get_json()
    [listed] = client.get("/v1/licenses/keys?order_id=ord_gen1", headers=merchant_headers()).get_json()["data"]
    assert listed["key"] == key and listed["activations"] == 1 and listed["status"] == "valid"
    by_product = client.get(f"/v1/licenses/keys?product_id={PRODUCT}", headers=merchant_headers()).get_json()
    assert [k["key_id"] for k in by_product["data"]] == [listed["key_id"]]
    assert client.get("/v1/licenses/keys", headers=merchant_headers()).status_code == 422
    assert client.get("/v1/licenses/keys?order_id=ord_gen1").status_code == 401
    key_url = f"/v1/licenses/keys/{listed['key_id']}"
    other = {"Authorization": f"Bearer {credentials.make_api_key(SECRET, 'mer_other')}"}
    assert client.post(f"{key_url}/revoke", headers=other).status_code == 404
    assert client.get("/v1/licenses/keys?order_id=ord_gen1", headers=other).status_code == 404

    assert client.post(f"{key_url}/revoke", headers=merchant_headers()).get_json()["status"] == "revoked"
    assert post(client, "validate", key=key).get_json()["status"] == "revoked"
    assert post(client, "activate", key=key, instance_name="b", fingerprint="fb").get_json()["code"] == \
        "license_revoked"
    assert client.post(f"{key_url}/reinstate", headers=merchant_headers()).get_json()["status"] == "valid"

    changed = client.patch(key_url, json={"activation_limit": 5}, headers=merchant_headers()).get_json()
    assert changed["activation_limit"] == 5 and changed["license_token"] != listed["license_token"]
    assert client.patch(key_url, json={"activation_limit": 0}, headers=merchant_headers()).status_code == 422
    [act] = client.get(f"{key_url}/activations", headers=merchant_headers()).get_json()["data"]
    assert act["activation_id"] == activation["activation_id"] and act["fingerprint"] == "fa"
    assert client.delete(f"{key_url}/activations/{act['activation_id']}",
                         headers=merchant_headers()).status_code == 204
    assert client.get(f"{key_url}/activations", headers=merchant_headers()).get_json()["data"] == []
    assert [e["reason"] for e in emitted(service, "license.revoked")] == ["merchant"]
    assert [e["reason"] for e in emitted(service, "license.deactivated")] == ["merchant"]


def refund(service, order_id, order_status):
    service.dispatcher(sample_envelope("payment.refunded", new_id=True, order_id=order_id,
                                       order_status=order_status))


def test_a_full_refund_revokes_a_partial_one_does_not(service, client, source):
    [key] = bought(service).licenses
    refund(service, "ord_gen1", "paid")  # partial
    assert post(client, "validate", key=key).get_json()["status"] == "valid"
    refund(service, "ord_gen1", "refunded")
    assert post(client, "validate", key=key).get_json()["status"] == "revoked"
    [event] = emitted(service, "license.revoked")
    assert event["reason"] == "refund" and event["order_id"] == "ord_gen1"


def test_a_product_can_keep_its_keys_on_refund(service, client, source):
    configure(client, revoke_on_refund=False)
    [key] = bought(service).licenses
    refund(service, "ord_gen1", "refunded")
    assert post(client, "validate", key=key).get_json()["status"] == "valid"


def test_a_refund_that_overtakes_the_payment_waits_for_the_keys(service, source):
    place_order(service, "ord_gen9", [("line_gen9", PRODUCT, 1)])
    from tillkey.messaging import RetryLater
    with pytest.raises(RetryLater):
        refund(service, "ord_gen9", "refunded")


def test_deleting_the_order_erases_activations_and_the_key_text(service, client, source):
    [key] = bought(service).licenses
    post(client, "activate", key=key, instance_name="Ada's laptop", fingerprint="machine-123")
    service.dispatcher(sample_envelope("order.deleted", new_id=True, order_id="ord_gen1"))
    with service.uow_factory() as uow:
        [stored] = uow.generated_keys.of_order("ord_gen1")
        assert stored.key is None and stored.status == "revoked" and uow.activations.of_key(stored.key_id) == []
    assert post(client, "validate", key=key).get_json()["status"] == "revoked"
    with service.engine.connect() as conn:
        dump = json.dumps([list(map(str, r)) for r in conn.exec_driver_sql("SELECT * FROM activations")])
    assert "machine-123" not in dump and "Ada" not in dump


def test_guesses_take_as_long_as_real_keys(service, client, source):
    """The same path for both (keyed hash, one indexed query): medians within a small margin."""
    keys = bought(service, quantity=5).licenses
    guesses = [new_key("EDPRO") for _ in keys]

    # Interleaved, so both meet the same conditions (the rate limiter batches its counts past a
    # threshold: measuring one kind after the other would time the limiter, not the lookup).
    timings: dict[bool, list[float]] = {True: [], False: []}
    for round in range(12):
        for real_key, guess in zip(keys, guesses, strict=True):
            for is_real, key in ((True, real_key), (False, guess))[::1 if round % 2 else -1]:
                start = time.perf_counter()
                post(client, "validate", key=key)
                timings[is_real].append((time.perf_counter() - start) * 1000)
    real, guessed = (statistics.median(timings[kind][len(keys):]) for kind in (True, False))
    print(f"validate: real keys {real:.2f} ms, guesses {guessed:.2f} ms (medians)")
    assert abs(real - guessed) < max(0.3, 0.25 * real), (real, guessed)


def test_calls_are_rate_limited_per_key_and_per_address(settings, service, source):
    app = create_app(settings, LicenseRateLimits(license_calls_per_key="3/hour",
                                                 license_calls_per_address="8/hour"))
    client = app.test_client()
    try:
        key = new_key("EDPRO")
        answers = [post(client, "validate", key=key).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        limited = post(client, "validate", key=key)
        assert limited.get_json()["code"] == "rate_limited" and int(limited.headers["Retry-After"]) >= 1
        # Other keys from the same address: the address limit stops them too.
        more = [post(client, "validate", key=new_key("EDPRO")).status_code for _ in range(5)]
        assert more.count(429) >= 1 and more[-1] == 429
    finally:
        app.extensions["tillkey.fulfillment"].engine.dispose()


def test_concurrent_activations_never_pass_the_limit(app, service, source):
    """Six machines at once on a key allowed two: the key's row lock makes them take turns."""
    import threading

    [key] = bought(service).licenses
    answers: list[int] = []
    barrier = threading.Barrier(6)

    def activate(n):
        client = app.test_client()
        barrier.wait()
        answers.append(post(client, "activate", key=key, instance_name=f"m{n}", fingerprint=f"fp-{n}").status_code)

    threads = [threading.Thread(target=activate, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [200, 200, 409, 409, 409, 409]
    with service.uow_factory() as uow:
        [stored] = uow.generated_keys.of_order("ord_gen1")
        assert len(uow.activations.of_key(stored.key_id)) == 2
