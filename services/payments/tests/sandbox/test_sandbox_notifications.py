"""Notifications: Standard Webhooks signatures, retries, restarts, and no card number at rest or in logs."""
from __future__ import annotations

import json
import signal
import threading
import time

import pytest
import requests
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tillkey.contracts.signing import new_secret
from tillkey.payments.adapters.sandbox_gateway import SandboxGateway
from tillkey.payments.service_layer.gateway_port import InvalidNotification
from tillkey.testing.receiver import Receiver

pytestmark = pytest.mark.integration


@pytest.fixture
def delivered(sandbox, gateway, receiver, h):
    """One genuine charge.succeeded notification as the receiver got it."""
    charge = gateway.charge(h.new_payment_id(), h.tokenize(sandbox.url), 4200, "EUR", h.notify_url(receiver))
    return h.wait_notification(receiver, charge.charge_id)


def test_the_signature_is_what_the_standardwebhooks_library_verifies(delivered, sandbox_secret):
    payload = Webhook(sandbox_secret).verify(delivered.body, delivered.headers)
    assert payload["id"] == delivered.headers["webhook-id"]
    assert payload["type"] == "charge.succeeded"
    assert payload["created_at"].endswith("Z")
    assert delivered.headers["content-type"] == "application/json"
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(delivered.body, delivered.headers)


def test_parse_notification_refuses_forged_tampered_and_stale_ones(delivered, gateway, sandbox, sandbox_secret):
    assert gateway.parse_notification(delivered.headers, delivered.body).type == "charge.succeeded"

    forger = SandboxGateway(sandbox.url, new_secret())
    with pytest.raises(InvalidNotification, match="signature"):
        forger.parse_notification(delivered.headers, delivered.body)

    tampered = json.loads(delivered.body)
    tampered["data"]["amount"] = 1
    with pytest.raises(InvalidNotification, match="no signature matches"):
        gateway.parse_notification(delivered.headers, json.dumps(tampered))

    later = SandboxGateway(sandbox.url, sandbox_secret, clock=lambda: time.time() + 600)
    with pytest.raises(InvalidNotification, match="tolerance"):
        later.parse_notification(delivered.headers, delivered.body)

    unsigned = {k: v for k, v in delivered.headers.items() if k != "webhook-signature"}
    with pytest.raises(InvalidNotification, match="missing"):
        gateway.parse_notification(unsigned, delivered.body)


def test_a_notification_answered_500_is_retried_with_the_same_id_until_2xx(sandbox, gateway, h):
    answers = iter([500, 503])
    responder = lambda _req: (next(answers, 200), {}, b"")
    with Receiver(responder) as receiver:
        charge = gateway.charge(h.new_payment_id(), h.tokenize(sandbox.url), 100, "EUR", h.notify_url(receiver))
        receiver.wait_for(lambda reqs: len(reqs) >= 3)
        time.sleep(0.7)  # a 2xx ends the retries
        tries = h.notifications(receiver, charge.charge_id)
    assert len(tries) == 3
    assert len({t.headers["webhook-id"] for t in tries}) == 1
    assert len({t.body for t in tries}) == 1
    for t in tries:
        gateway.parse_notification(t.headers, t.body)  # each try is signed afresh
    assert tries[1].at - tries[0].at >= 0.25  # the (test) schedule's 300 ms backoff


def test_a_restart_loses_neither_a_pending_notification_nor_an_unsettled_charge(make_sandbox, sandbox_secret, h):
    accepting = threading.Event()
    responder = lambda _req: (200 if accepting.is_set() else 500, {}, b"")
    with Receiver(responder) as receiver:
        # A charge settled whose notification was refused, and a charge not yet settled (long delay).
        proc = make_sandbox(SANDBOX_SETTLE_DELAY="100ms").start()
        gw = SandboxGateway(proc.url, sandbox_secret)
        refused = gw.charge(h.new_payment_id(), h.tokenize(proc.url), 100, "EUR", h.notify_url(receiver))
        receiver.wait_for(lambda _r: h.notifications(receiver, refused.charge_id))

        proc.restart(SANDBOX_SETTLE_DELAY="1s")
        unsettled = gw.charge(h.new_payment_id(), h.tokenize(proc.url, "4000000000000002"), 200, "EUR",
                              h.notify_url(receiver))
        proc.stop(signal.SIGKILL)  # before its one second is up
        assert not h.notifications(receiver, unsettled.charge_id)

        accepting.set()
        proc.restart()
        got = h.wait_notification(receiver, unsettled.charge_id, "charge.failed")
        receiver.wait_for(lambda _r: len(h.notifications(receiver, refused.charge_id)) >= 2)
        ids = {r.headers["webhook-id"] for r in h.notifications(receiver, refused.charge_id)}
    assert len(ids) == 1  # the same notification, redelivered
    assert gw.parse_notification(got.headers, got.body).failure_code == "card_declined"
    assert gw.get_charge(refused.charge_id).status == "succeeded"


def test_no_card_number_is_stored_or_logged(make_sandbox, sandbox_secret, h):
    proc = make_sandbox().start()  # LOG_LEVEL=DEBUG: the most talkative it gets
    numbers = list(h.TEST_CARDS) + ["5555555555554444"]
    with Receiver() as receiver:
        gw = SandboxGateway(proc.url, sandbox_secret, backoff=0.05)
        for number in numbers:
            charge = gw.charge(h.new_payment_id(), h.tokenize(proc.url, number), 300, "EUR", h.notify_url(receiver))
            h.wait_notification(receiver, charge.charge_id)
        spaced = "4242 4242 4242 4242"
        h.tokenize(proc.url, spaced)
        refused = requests.post(proc.url + "/v1/tokens", timeout=5, json={
            "number": "4242424242424241", "exp_month": 1, "exp_year": 2001, "cvc": "999"})
        assert refused.status_code == 422
        received = b"".join(r.body for r in receiver.snapshot())
    proc.stop()
    stored = b"".join(p.read_bytes() for p in proc.db_path.parent.glob(proc.db_path.name + "*"))
    log = proc.log_text()
    assert "token tok_" in log  # the log is there and talks about tokens...
    for number in numbers + ["4242424242424241"]:
        assert number.encode() not in stored, number
        assert number not in log, number
        assert number.encode() not in received, number
    assert spaced not in log
    assert b"4242424242424242" not in stored
