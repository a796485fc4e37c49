"""Calling a merchant's license web service over HTTP, over kept connections behind the shared SSRF guard."""
from __future__ import annotations

import socket

from tillkey.fulfillment.domain.license_calls import CallResult
from tillkey.platform.outbound import OutboundFailed, OutboundHttp, OutboundTimeout
from tillkey.platform.urls import UnsafeUrl

USER_AGENT = "Tillkey-Fulfillment/1"
MAX_ANSWER_BYTES = 1024 * 1024  # 1000 keys of 500 characters fit; an endless body cannot hold a thread


class LicenseServiceClient:
    """POSTs the signed body, never follows redirects, reads at most MAX_ANSWER_BYTES of the answer.

    Connections are kept per origin and shared by the call threads (platform.outbound); the guard
    checks the address of every new connection (DNS may have changed since the URL was accepted)
    and connects to the address it checked.
    """

    def __init__(self, timeout: float, allow_private: bool, resolver=socket.getaddrinfo):
        self._timeout = timeout
        self._http = OutboundHttp(allow_private=allow_private, resolver=resolver)

    def call(self, url: str, body: str, headers: dict[str, str]) -> CallResult:
        try:
            answer = self._http.post(url, body.encode(), {**headers, "content-type": "application/json",
                                                          "accept": "application/json", "user-agent": USER_AGENT},
                                     timeout=self._timeout, max_bytes=MAX_ANSWER_BYTES + 1)
        except UnsafeUrl as exc:
            return CallResult(refused=str(exc))
        except OutboundTimeout:
            return CallResult(error=f"timed out after {self._timeout:g}s")
        except OutboundFailed as exc:
            return CallResult(error=f"connection failed: {exc}")
        if answer.read_error is not None:  # a broken or slow body is a failed call, retried
            return CallResult(error=f"the answer could not be read: {type(answer.read_error).__name__}")
        # An answer cut at the limit is no longer valid JSON: judged malformed, hence retried.
        return CallResult(status=answer.status, body=answer.body[:MAX_ANSWER_BYTES])

    def close(self) -> None:
        self._http.close()
