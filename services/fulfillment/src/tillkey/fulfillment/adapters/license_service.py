"""Calling a merchant's license web service over HTTP, through the shared SSRF guard."""
from __future__ import annotations

import socket

import requests

from tillkey.fulfillment.domain.license_calls import CallResult
from tillkey.platform.urls import UnsafeUrl, guarded_session

USER_AGENT = "Tillkey-Fulfillment/1"
MAX_ANSWER_BYTES = 1024 * 1024  # 1000 keys of 500 characters fit; an endless body cannot hold a thread


class LicenseServiceClient:
    """POSTs the signed body, never follows redirects, reads at most MAX_ANSWER_BYTES of the answer.

    The guard checks the address again at connection time (DNS may have changed since the URL was
    accepted) and connects to the address it checked.
    """

    def __init__(self, timeout: float, allow_private: bool, resolver=socket.getaddrinfo):
        self._timeout = timeout
        self._allow_private = allow_private
        self._resolver = resolver

    def call(self, url: str, body: str, headers: dict[str, str]) -> CallResult:
        # A session per call: requests sessions are not thread-safe, and the guard pins its address per connection.
        with guarded_session(allow_private=self._allow_private, resolver=self._resolver) as session:
            try:
                resp = session.post(url, data=body.encode(), timeout=(self._timeout, self._timeout),
                                    allow_redirects=False, stream=True,
                                    headers={**headers, "content-type": "application/json",
                                             "accept": "application/json", "user-agent": USER_AGENT})
            except UnsafeUrl as exc:
                return CallResult(refused=str(exc))
            except requests.Timeout:
                return CallResult(error=f"timed out after {self._timeout:g}s")
            except requests.RequestException as exc:
                return CallResult(error=f"connection failed: {type(exc).__name__}: {str(exc)[:300]}")
            try:
                raw = resp.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True) or b""
            except Exception as exc:  # noqa: BLE001 — a broken or slow body is a failed call, retried
                return CallResult(error=f"the answer could not be read: {type(exc).__name__}")
            finally:
                resp.close()
        # An answer cut at the limit is no longer valid JSON: judged malformed, hence retried.
        return CallResult(status=resp.status_code, body=raw[:MAX_ANSWER_BYTES])
