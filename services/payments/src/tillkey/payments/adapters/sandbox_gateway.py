"""`CardGateway` over HTTP to the sandbox gateway process (`tillkey-sandbox-gateway`)."""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any
from urllib.parse import quote

import urllib3
from requests.utils import DEFAULT_CA_BUNDLE_PATH
from tenacity import Retrying, before_sleep_log, retry_if_exception_type, stop_after_attempt, wait_exponential
from urllib3.exceptions import HTTPError

from tillkey.contracts import signing
from tillkey.payments.service_layer.gateway_port import (
    NOTIFICATION_TYPES,
    GatewayCharge,
    GatewayChargeState,
    GatewayNotification,
    GatewayRefund,
    GatewayRejected,
    InvalidNotification,
    TransientGatewayError,
)

log = logging.getLogger(__name__)
POOL_SIZE = 32  # connections kept per gateway host: more than payments' request threads (WEB_THREADS)


class SandboxGateway:
    name = "sandbox"

    def __init__(self, base_url: str, secret: str, *, http: urllib3.PoolManager | None = None,
                 timeout: tuple[float, float] = (3.05, 10.0), attempts: int = 4, backoff: float = 0.2,
                 max_backoff: float = 2.0, clock: Callable[[], float] = time.time):
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        # One urllib3 pool for every calling thread (thread-safe, unlike a requests.Session), each
        # connection kept open between calls. Plain urllib3: requests' sessions, cookies, hooks
        # and environment look-ups were about 40% of the client's CPU per call (issue 11). No proxy
        # from the environment, no redirects, no retries here (tenacity retries, with the same
        # Idempotency-Key); TLS verified against the same bundle requests uses.
        self.http = http or urllib3.PoolManager(maxsize=POOL_SIZE, block=False, retries=False,
                                                cert_reqs="CERT_REQUIRED", ca_certs=DEFAULT_CA_BUNDLE_PATH)
        self.timeout = urllib3.Timeout(connect=timeout[0], read=timeout[1])
        self.clock = clock
        self._retrying = partial(Retrying, retry=retry_if_exception_type(TransientGatewayError), reraise=True,
                                 stop=stop_after_attempt(attempts),
                                 wait=wait_exponential(multiplier=backoff, max=max_backoff),
                                 before_sleep=before_sleep_log(log, logging.WARNING))

    # -- calls ----------------------------------------------------------------------------------
    def charge(self, payment_id: str, payment_token: str, amount: int, currency: str,
               notification_url: str) -> GatewayCharge:
        body = {"payment_token": payment_token, "amount": amount, "currency": currency, "reference": payment_id,
                "notification_url": notification_url, "metadata": {"payment_id": payment_id}}
        # The key comes from our payment id, not a fresh random value: every retry here, and any
        # later retry of the same attempt after a crash, is the same charge to the gateway.
        got = self._call("POST", "/v1/charges", body, idempotency_key=f"charge-{payment_id}")
        return GatewayCharge(got["charge_id"], got["status"], got["amount"], got["currency"], got["reference"])

    def refund(self, refund_id: str, charge_id: str, amount: int, notification_url: str) -> GatewayRefund:
        body = {"charge_id": charge_id, "amount": amount, "reference": refund_id,
                "notification_url": notification_url}
        return _refund(self._call("POST", "/v1/refunds", body, idempotency_key=f"refund-{refund_id}"))

    def get_charge(self, charge_id: str) -> GatewayChargeState:
        got = self._call("GET", f"/v1/charges/{quote(charge_id, safe='')}")
        return GatewayChargeState(got["charge_id"], got["status"], got["amount"], got["currency"], got["reference"],
                                  got["amount_refunded"], got.get("failure_code"), got.get("failure_message"),
                                  tuple(_refund(r) for r in got.get("refunds", [])))

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None,
              idempotency_key: str | None = None) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        for attempt in self._retrying():
            with attempt:
                return self._once(method, path, body, headers)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def _once(self, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]) -> dict[str, Any]:
        payload = None if body is None else json.dumps(body).encode()
        if payload is not None:
            headers = {**headers, "Content-Type": "application/json"}
        try:
            resp = self.http.request(method, self.base_url + path, body=payload, headers=headers,
                                     timeout=self.timeout, retries=False, redirect=False)
        except HTTPError as exc:  # urllib3's: no connection, a timeout, a connection that broke off
            raise TransientGatewayError(f"sandbox gateway unreachable: {type(exc).__name__}", "unreachable") from exc
        problem, status = _json_or_none(resp.data), resp.status
        if status >= 500 or status == 429:
            raise TransientGatewayError(f"sandbox gateway answered {status}",
                                        (problem or {}).get("code") or "gateway_unavailable")
        if status >= 400:
            p = problem or {}
            raise GatewayRejected(p.get("detail") or f"sandbox gateway answered {status}",
                                  p.get("code") or "rejected", status, p.get("errors"))
        if not isinstance(problem, dict):
            # A 2xx we cannot read: the call may have worked, and the same key makes asking again safe.
            raise TransientGatewayError("sandbox gateway answered 2xx without a JSON object", "bad_response")
        return problem

    # -- notifications --------------------------------------------------------------------------
    def parse_notification(self, headers: Mapping[str, str], body: bytes | str) -> GatewayNotification:
        try:
            text = body.decode("utf-8") if isinstance(body, bytes | bytearray) else body
        except UnicodeDecodeError:
            raise InvalidNotification("the body is not UTF-8") from None
        try:
            msg_id = signing.verify(self.secret, dict(headers.items()), text, now=self.clock())
        except signing.SignatureError as exc:
            raise InvalidNotification(f"signature check failed: {exc}", "invalid_signature") from None
        try:
            payload = json.loads(text)
            data = payload["data"]
            if payload["id"] != msg_id:
                raise InvalidNotification("the body's id is not the signed webhook-id")
            if payload["type"] not in NOTIFICATION_TYPES:
                raise InvalidNotification(f"unknown notification type {payload['type']!r}")
            note = GatewayNotification(
                notification_id=payload["id"], type=payload["type"], created_at=payload["created_at"],
                charge_id=data["charge_id"], reference=data["reference"], amount=data["amount"],
                currency=data["currency"], status=data["status"], failure_code=data.get("failure_code"),
                failure_message=data.get("failure_message"), refund_id=data.get("refund_id"))
        except (ValueError, KeyError, TypeError) as exc:  # InvalidNotification is none of these
            raise InvalidNotification(f"malformed notification: {type(exc).__name__} {exc}") from None
        if not isinstance(note.amount, int) or isinstance(note.amount, bool) or not all(
                isinstance(v, str) for v in (note.charge_id, note.reference, note.currency, note.status)):
            raise InvalidNotification("malformed notification: wrong field types")
        if note.is_refund and not note.refund_id:
            raise InvalidNotification("malformed notification: a refund event without refund_id")
        return note


def _json_or_none(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:  # UnicodeDecodeError is one too
        return None


def _refund(r: dict[str, Any]) -> GatewayRefund:
    return GatewayRefund(r["refund_id"], r["charge_id"], r["status"], r["amount"], r["currency"], r["reference"],
                         r.get("failure_code"))
