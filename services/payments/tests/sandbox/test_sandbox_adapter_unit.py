"""The sandbox adapter against a scripted session: retry classification, idempotency keys, parsing."""
from __future__ import annotations

import json
import threading
import time
from types import SimpleNamespace

import pytest
import urllib3
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from tillkey.contracts import signing
from tillkey.payments.adapters.sandbox_gateway import SandboxGateway
from tillkey.payments.service_layer.gateway_port import (
    CardGateway,
    GatewayRejected,
    InvalidNotification,
    TransientGatewayError,
)

SECRET = signing.new_secret()
ACCEPTED = {"charge_id": "ch_1", "status": "pending", "amount": 100, "currency": "EUR", "reference": "pay_1"}


class Session:
    """Scripted answers in place of the urllib3 pool: (status, body) or an exception to raise."""

    def __init__(self, *script):
        self.script = list(script)
        self.calls: list[dict] = []

    def request(self, method, url, body=None, headers=None, timeout=None, retries=None, redirect=None):
        self.calls.append({"method": method, "url": url, "json": None if body is None else json.loads(body),
                           "headers": dict(headers or {}), "retries": retries, "redirect": redirect})
        outcome = self.script.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        status, answer = outcome
        return SimpleNamespace(status=status, data=answer if isinstance(answer, bytes) else _json(answer))


def _json(obj) -> bytes:
    return json.dumps(obj).encode()


def _gateway(session, **kw) -> SandboxGateway:
    return SandboxGateway("http://sandbox/", SECRET, http=session, backoff=0, **kw)


def test_it_satisfies_the_port():
    gateway: CardGateway = _gateway(Session())
    assert gateway.name == "sandbox"


def test_transient_failures_are_retried_with_the_same_key_and_body():
    session = Session((503, {"code": "temporarily_unavailable"}), ReadTimeoutError(None, "/v1/charges", "timed out"),
                      ProtocolError("Connection aborted.", ConnectionResetError()), (202, ACCEPTED))
    charge = _gateway(session).charge("pay_1", "tok_1", 100, "EUR", "http://payments/n")
    assert charge.charge_id == "ch_1" and charge.status == "pending"
    assert len(session.calls) == 4
    assert {c["headers"]["Idempotency-Key"] for c in session.calls} == {"charge-pay_1"}
    assert all(c["json"] == session.calls[0]["json"] for c in session.calls)
    assert session.calls[0]["url"] == "http://sandbox/v1/charges"
    assert session.calls[0]["json"]["reference"] == "pay_1"
    assert session.calls[0]["headers"]["Content-Type"] == "application/json"
    assert {(c["retries"], c["redirect"]) for c in session.calls} == {(False, False)}  # tenacity alone retries


def test_retries_stop_after_the_attempts_with_a_transient_error():
    session = Session(*[(500, b"oops")] * 3)
    with pytest.raises(TransientGatewayError) as err:
        _gateway(session, attempts=3).charge("pay_1", "tok_1", 100, "EUR", "http://n")
    assert len(session.calls) == 3
    assert err.value.code == "gateway_unavailable"


def test_429_and_an_unreadable_2xx_are_transient():
    session = Session((429, {}), (200, b"<html>"), (202, ACCEPTED))
    assert _gateway(session).charge("pay_1", "tok_1", 100, "EUR", "http://n").charge_id == "ch_1"
    assert len(session.calls) == 3


def test_a_4xx_is_permanent_and_not_retried():
    session = Session((422, {"code": "token_used", "detail": "Already used.", "errors": {"payment_token": ["x"]}}))
    with pytest.raises(GatewayRejected) as err:
        _gateway(session).charge("pay_1", "tok_1", 100, "EUR", "http://n")
    assert (err.value.status, err.value.code, err.value.detail) == (422, "token_used", "Already used.")
    assert err.value.errors == {"payment_token": ["x"]}
    assert len(session.calls) == 1


def test_refund_uses_a_key_from_our_refund_id():
    refund = {"refund_id": "rfd_1", "charge_id": "ch_1", "status": "pending", "amount": 50, "currency": "EUR",
              "reference": "re_9"}
    session = Session((502, {}), (202, refund))
    got = _gateway(session).refund("re_9", "ch_1", 50, "http://n")
    assert (got.refund_id, got.reference, got.amount) == ("rfd_1", "re_9", 50)
    assert [c["headers"]["Idempotency-Key"] for c in session.calls] == ["refund-re_9"] * 2


def _signed(payload: dict, secret: str = SECRET, at: float | None = None, msg_id: str | None = None):
    body = json.dumps(payload)
    return signing.headers([secret], msg_id or payload["id"], int(at or time.time()), body), body


NOTE = {"id": "ntf_1", "type": "charge.failed", "created_at": "2026-11-27T10:00:00.000Z",
        "data": {"charge_id": "ch_1", "reference": "pay_1", "amount": 100, "currency": "EUR", "status": "failed",
                 "failure_code": "card_declined", "failure_message": "The card was declined."}}


def test_parse_notification_reads_a_signed_notification():
    headers, body = _signed(NOTE)
    note = _gateway(Session()).parse_notification(headers, body.encode())
    assert (note.notification_id, note.type, note.failure_code, note.succeeded, note.is_refund) == (
        "ntf_1", "charge.failed", "card_declined", False, False)


@pytest.mark.parametrize("payload, msg_id, match", [
    ({**NOTE, "type": "charge.exploded"}, None, "unknown notification type"),
    ({**NOTE, "data": {"charge_id": "ch_1"}}, None, "malformed"),
    ({**NOTE, "data": {**NOTE["data"], "amount": "100"}}, None, "wrong field types"),
    ({**NOTE, "type": "refund.succeeded"}, None, "without refund_id"),
    (NOTE, "ntf_other", "not the signed webhook-id"),
])
def test_parse_notification_refuses_well_signed_but_malformed_ones(payload, msg_id, match):
    headers, body = _signed(payload, msg_id=msg_id)
    with pytest.raises(InvalidNotification, match=match):
        _gateway(Session()).parse_notification(headers, body)


def test_parse_notification_refuses_bad_signatures_and_stale_or_future_timestamps():
    gateway = _gateway(Session())
    for headers, body in (_signed(NOTE, secret=signing.new_secret()), _signed(NOTE, at=time.time() - 301),
                          _signed(NOTE, at=time.time() + 301)):
        with pytest.raises(InvalidNotification):
            gateway.parse_notification(headers, body)
    headers, body = _signed(NOTE)
    with pytest.raises(InvalidNotification, match="UTF-8"):
        gateway.parse_notification(headers, b"\xff" + body.encode())
    with pytest.raises(InvalidNotification):
        gateway.parse_notification({}, body)


def test_one_thread_safe_pool_kept_for_every_thread():
    gateway = SandboxGateway("http://sandbox/", SECRET)
    theirs: list = []
    other = threading.Thread(target=lambda: theirs.append(gateway.http))
    other.start()
    other.join()
    # urllib3's pool manager, shared by payments' request threads (a requests.Session is not
    # thread-safe), and big enough that no thread's connection is thrown away after its call.
    assert isinstance(gateway.http, urllib3.PoolManager) and theirs == [gateway.http]
    assert gateway.http.connection_pool_kw["maxsize"] >= 8
