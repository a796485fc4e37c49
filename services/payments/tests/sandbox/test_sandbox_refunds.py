"""Refunds: full, partial, over-refund, idempotency, failing refunds — through the adapter."""
from __future__ import annotations

import pytest
import requests

from tillkey.payments.service_layer.gateway_port import GatewayRejected

pytestmark = pytest.mark.integration


@pytest.fixture
def paid(sandbox, gateway, receiver, h):
    """A charge of 5000 EUR that has succeeded."""
    def make(number: str = "4242424242424242", amount: int = 5000):
        charge = gateway.charge(h.new_payment_id(), h.tokenize(sandbox.url, number), amount, "EUR",
                                h.notify_url(receiver))
        h.wait_notification(receiver, charge.charge_id, "charge.succeeded")
        return charge
    return make


def _refund_notes(receiver, h, charge_id, type_="refund.succeeded"):
    return h.notifications(receiver, charge_id, type_)


def test_a_full_refund_succeeds_and_is_notified(gateway, receiver, h, paid):
    charge = paid()
    refund = gateway.refund("re_full_" + charge.charge_id, charge.charge_id, 5000, h.notify_url(receiver))
    assert (refund.status, refund.amount, refund.currency, refund.charge_id) == ("pending", 5000, "EUR",
                                                                                 charge.charge_id)
    assert refund.reference == "re_full_" + charge.charge_id
    req = h.wait_notification(receiver, charge.charge_id, "refund.succeeded")
    note = gateway.parse_notification(req.headers, req.body)
    assert (note.refund_id, note.reference, note.amount, note.status, note.is_refund) == (
        refund.refund_id, refund.reference, 5000, "succeeded", True)
    state = gateway.get_charge(charge.charge_id)
    assert state.status == "succeeded"
    assert state.amount_refunded == 5000
    assert [(r.refund_id, r.status) for r in state.refunds] == [(refund.refund_id, "succeeded")]
    with pytest.raises(GatewayRejected) as err:
        gateway.refund("re_more", charge.charge_id, 1, h.notify_url(receiver))
    assert (err.value.status, err.value.code) == (422, "amount_too_large")


def test_partial_refunds_add_up_and_an_over_refund_is_422(gateway, receiver, h, paid):
    charge = paid()
    gateway.refund("re_p1_" + charge.charge_id, charge.charge_id, 2000, h.notify_url(receiver))
    gateway.refund("re_p2_" + charge.charge_id, charge.charge_id, 2500, h.notify_url(receiver))
    with pytest.raises(GatewayRejected) as err:  # pending refunds already reserve their amount
        gateway.refund("re_p3_" + charge.charge_id, charge.charge_id, 501, h.notify_url(receiver))
    assert err.value.code == "amount_too_large"
    assert err.value.errors == {"amount": ["Must be at most 500."]}
    receiver.wait_for(lambda _r: len(_refund_notes(receiver, h, charge.charge_id)) == 2)
    last = gateway.refund("re_p4_" + charge.charge_id, charge.charge_id, 500, h.notify_url(receiver))
    receiver.wait_for(lambda _r: len(_refund_notes(receiver, h, charge.charge_id)) == 3)
    state = gateway.get_charge(charge.charge_id)
    assert state.amount_refunded == 5000
    assert state.refunds[0].refund_id == last.refund_id  # newest first


def test_a_refund_replayed_with_the_same_id_is_one_refund(gateway, receiver, h, paid):
    charge = paid()
    first = gateway.refund("re_same_" + charge.charge_id, charge.charge_id, 1000, h.notify_url(receiver))
    again = gateway.refund("re_same_" + charge.charge_id, charge.charge_id, 1000, h.notify_url(receiver))
    assert first == again
    with pytest.raises(GatewayRejected) as err:
        gateway.refund("re_same_" + charge.charge_id, charge.charge_id, 999, h.notify_url(receiver))
    assert err.value.code == "idempotency_key_reused"
    h.wait_notification(receiver, charge.charge_id, "refund.succeeded")
    assert len(gateway.get_charge(charge.charge_id).refunds) == 1


def test_only_a_succeeded_charge_can_be_refunded(sandbox, gateway, receiver, h):
    declined = gateway.charge(h.new_payment_id(), h.tokenize(sandbox.url, "4000000000000002"), 100, "EUR",
                              h.notify_url(receiver))
    h.wait_notification(receiver, declined.charge_id, "charge.failed")
    with pytest.raises(GatewayRejected) as err:
        gateway.refund("re_declined", declined.charge_id, 100, h.notify_url(receiver))
    assert (err.value.status, err.value.code) == (409, "charge_not_refundable")
    with pytest.raises(GatewayRejected) as err:
        gateway.refund("re_unknown", "ch_nope", 100, h.notify_url(receiver))
    assert (err.value.status, err.value.code) == (422, "charge_not_found")


def test_a_refund_of_the_refund_fails_card_fails_and_releases_its_amount(gateway, receiver, h, paid):
    charge = paid("4000000000005126")
    gateway.refund("re_fail_" + charge.charge_id, charge.charge_id, 5000, h.notify_url(receiver))
    req = h.wait_notification(receiver, charge.charge_id, "refund.failed")
    note = gateway.parse_notification(req.headers, req.body)
    assert (note.status, note.failure_code, note.succeeded) == ("failed", "refund_declined", False)
    state = gateway.get_charge(charge.charge_id)
    assert state.amount_refunded == 0
    assert state.refunds[0].status == "failed"
    # The failed refund no longer reserves anything (it fails again, but is accepted).
    assert gateway.refund("re_fail2_" + charge.charge_id, charge.charge_id, 5000,
                          h.notify_url(receiver)).status == "pending"


def test_refund_bad_fields_are_422_per_field(sandbox):
    resp = requests.post(sandbox.url + "/v1/refunds", json={"amount": 0}, headers={"Idempotency-Key": "rf-bad"},
                         timeout=5)
    assert resp.status_code == 422
    assert set(resp.json()["errors"]) == {"charge_id", "amount", "reference", "notification_url"}


def test_concurrent_refunds_cannot_exceed_the_charge(gateway, receiver, h, paid):
    from concurrent.futures import ThreadPoolExecutor

    charge = paid()

    def refund(i: int):
        try:
            return gateway.refund(f"re_race{i}_{charge.charge_id}", charge.charge_id, 3000, h.notify_url(receiver))
        except GatewayRejected as exc:
            return exc.code

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(refund, range(6)))
    assert sum(1 for r in results if r != "amount_too_large") == 1
    receiver.wait_for(lambda _r: _refund_notes(receiver, h, charge.charge_id))
    assert gateway.get_charge(charge.charge_id).amount_refunded == 3000
