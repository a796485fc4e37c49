"""Charges against the real sandbox process, through the adapter, with a real notification receiver."""
from __future__ import annotations

import time

import pytest
import requests

from tillkey.payments.adapters.sandbox_gateway import SandboxGateway
from tillkey.payments.service_layer.gateway_port import GatewayRejected, TransientGatewayError

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("number, status, failure_code", [
    ("4242424242424242", "succeeded", None),
    ("4000000000000002", "failed", "card_declined"),
    ("4000000000009995", "failed", "insufficient_funds"),
    ("5555555555554444", "succeeded", None),  # any other valid number
    ("378282246310005", "succeeded", None),
])
def test_each_test_card_ends_as_scripted(sandbox, gateway, receiver, h, number, status, failure_code):
    payment_id = h.new_payment_id()
    charge = gateway.charge(payment_id, h.tokenize(sandbox.url, number, cvc="1234"), 4900, "EUR",
                            h.notify_url(receiver))
    assert (charge.status, charge.amount, charge.currency, charge.reference) == ("pending", 4900, "EUR", payment_id)

    req = h.wait_notification(receiver, charge.charge_id)
    assert req.path == "/v1/gateways/sandbox/notifications"
    note = gateway.parse_notification(req.headers, req.body)
    assert note.type == f"charge.{status}"
    assert (note.charge_id, note.reference, note.amount, note.currency, note.status) == (
        charge.charge_id, payment_id, 4900, "EUR", status)
    assert note.failure_code == failure_code
    assert (note.failure_message is None) == (failure_code is None)
    assert note.notification_id.startswith("ntf_")

    state = gateway.get_charge(charge.charge_id)
    assert (state.status, state.failure_code, state.amount_refunded, state.refunds) == (status, failure_code, 0, ())


def test_the_unavailable_twice_card_answers_5xx_twice_per_key_then_accepts(sandbox, receiver, h):
    token = h.tokenize(sandbox.url, "4000000000000119")
    body = {"payment_token": token, "amount": 1000, "currency": "USD", "reference": "pay_raw",
            "notification_url": h.notify_url(receiver)}
    post = lambda key: requests.post(sandbox.url + "/v1/charges", json=body, headers={"Idempotency-Key": key},
                                     timeout=5)
    assert [post("k-119").status_code for _ in range(2)] == [503, 503]
    accepted = post("k-119")
    assert accepted.status_code == 202, accepted.text
    assert post("k-119").json() == accepted.json()
    h.wait_notification(receiver, accepted.json()["charge_id"], "charge.succeeded")


def test_the_adapter_retries_absorb_the_two_5xx_and_the_charge_succeeds_exactly_once(sandbox, gateway, receiver, h):
    charge = gateway.charge(h.new_payment_id(), h.tokenize(sandbox.url, "4000000000000119"), 2500, "EUR",
                            h.notify_url(receiver))
    assert charge.status == "pending"
    h.wait_notification(receiver, charge.charge_id, "charge.succeeded")
    time.sleep(0.6)  # room for a duplicate to show up, were there one
    assert len(h.notifications(receiver, charge.charge_id)) == 1
    assert gateway.get_charge(charge.charge_id).status == "succeeded"


def test_too_few_retries_surface_as_transient_and_a_later_call_with_the_same_payment_finishes_it(
        sandbox, sandbox_secret, receiver, h):
    impatient = SandboxGateway(sandbox.url, sandbox_secret, attempts=1)
    payment_id, token = h.new_payment_id(), h.tokenize(sandbox.url, "4000000000000119")
    for _ in range(2):
        with pytest.raises(TransientGatewayError):
            impatient.charge(payment_id, token, 700, "EUR", h.notify_url(receiver))
    charge = impatient.charge(payment_id, token, 700, "EUR", h.notify_url(receiver))
    h.wait_notification(receiver, charge.charge_id, "charge.succeeded")


def test_same_key_and_body_replay_the_first_answer_and_charge_once(sandbox, receiver, h):
    body = {"payment_token": h.tokenize(sandbox.url), "amount": 1200, "currency": "eur", "reference": "pay_replay",
            "notification_url": h.notify_url(receiver), "metadata": {"order_id": "ord_1"}}
    first = requests.post(sandbox.url + "/v1/charges", json=body, headers={"Idempotency-Key": "replay-1"}, timeout=5)
    again = requests.post(sandbox.url + "/v1/charges", json=body, headers={"Idempotency-Key": "replay-1"}, timeout=5)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert first.json()["currency"] == "EUR"
    assert again.headers.get("Idempotent-Replayed") == "true"
    note = h.wait_notification(receiver, first.json()["charge_id"]).json()
    assert note["data"]["metadata"] == {"order_id": "ord_1"}

    changed = requests.post(sandbox.url + "/v1/charges", json={**body, "amount": 1300},
                            headers={"Idempotency-Key": "replay-1"}, timeout=5)
    assert changed.status_code == 422
    assert changed.json()["code"] == "idempotency_key_reused"
    time.sleep(0.4)
    assert len(h.notifications(receiver, first.json()["charge_id"])) == 1


def test_the_idempotency_key_is_required(sandbox, receiver, h):
    body = {"payment_token": h.tokenize(sandbox.url), "amount": 100, "currency": "EUR", "reference": "pay_x",
            "notification_url": h.notify_url(receiver)}
    resp = requests.post(sandbox.url + "/v1/charges", json=body, timeout=5)
    assert resp.status_code == 400
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert resp.json()["code"] == "idempotency_key_required"


def test_a_token_is_single_use(sandbox, gateway, receiver, h):
    token = h.tokenize(sandbox.url)
    gateway.charge(h.new_payment_id(), token, 100, "EUR", h.notify_url(receiver))
    with pytest.raises(GatewayRejected) as err:
        gateway.charge(h.new_payment_id(), token, 100, "EUR", h.notify_url(receiver))
    assert (err.value.status, err.value.code) == (422, "token_used")
    assert "payment_token" in err.value.errors


def test_an_unknown_token_and_bad_fields_are_422_per_field(sandbox, gateway, receiver, h):
    with pytest.raises(GatewayRejected) as err:
        gateway.charge(h.new_payment_id(), "tok_nope", 100, "EUR", h.notify_url(receiver))
    assert err.value.code == "token_invalid"
    resp = requests.post(sandbox.url + "/v1/charges", headers={"Idempotency-Key": "bad-fields"}, timeout=5,
                         json={"payment_token": h.tokenize(sandbox.url), "amount": -5, "currency": "EURO",
                               "notification_url": "ftp://x"})
    assert resp.status_code == 422
    assert set(resp.json()["errors"]) == {"amount", "currency", "reference", "notification_url"}


def test_get_charge_of_an_unknown_id_is_404(sandbox, gateway):
    assert requests.get(sandbox.url + "/v1/charges/ch_nope", timeout=5).status_code == 404
    with pytest.raises(GatewayRejected) as err:
        gateway.get_charge("ch_nope")
    assert err.value.status == 404


def test_an_unreachable_gateway_is_transient(sandbox_secret, h):
    nobody = SandboxGateway(f"http://127.0.0.1:{_closed_port()}", sandbox_secret, attempts=2, backoff=0.01)
    with pytest.raises(TransientGatewayError) as err:
        nobody.charge(h.new_payment_id(), "tok_x", 100, "EUR", "http://127.0.0.1:9/n")
    assert err.value.code == "unreachable"


def _closed_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_concurrent_tries_with_one_key_make_one_charge(sandbox, receiver, h):
    from concurrent.futures import ThreadPoolExecutor

    body = {"payment_token": h.tokenize(sandbox.url), "amount": 900, "currency": "EUR", "reference": "pay_race",
            "notification_url": h.notify_url(receiver)}
    post = lambda _i: requests.post(sandbox.url + "/v1/charges", json=body, headers={"Idempotency-Key": "race-1"},
                                    timeout=10)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, range(8)))
    assert {a.status_code for a in answers} == {202}
    assert len({a.json()["charge_id"] for a in answers}) == 1
    h.wait_notification(receiver, answers[0].json()["charge_id"])
    time.sleep(0.4)
    assert len(h.notifications(receiver, answers[0].json()["charge_id"])) == 1
