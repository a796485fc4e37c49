"""Sending one webhook over HTTP, over kept connections behind the shared SSRF guard (platform.outbound)."""
from __future__ import annotations

import socket
import time

from tillkey.platform.outbound import OutboundFailed, OutboundHttp, OutboundTimeout
from tillkey.platform.urls import UnsafeUrl
from tillkey.webhooks.domain.policy import SendResult

EXCERPT_BYTES = 1024
USER_AGENT = "Tillkey-Webhooks/1"


class HttpSender:
    """POSTs with a total time budget, never follows redirects, reads at most 1 KB of the answer.

    Only the first kilobyte is read (it is all the delivery log keeps), so a receiver answering
    with an endless body cannot hold a sending thread. Connections are kept per endpoint origin and
    shared by the delivery threads; each new one passes the address check (see platform.outbound).
    """

    def __init__(self, timeout: float, allow_private: bool, resolver=socket.getaddrinfo):
        self._timeout = timeout
        self._http = OutboundHttp(allow_private=allow_private, resolver=resolver)

    def send(self, url: str, body: str, headers: dict[str, str]) -> SendResult:
        started = time.monotonic()
        elapsed = lambda: int((time.monotonic() - started) * 1000)
        try:
            # A broken body does not change the status we got: its read error is not reported.
            answer = self._http.post(url, body.encode(), {**headers, "content-type": "application/json",
                                                          "user-agent": USER_AGENT},
                                     timeout=self._timeout, max_bytes=EXCERPT_BYTES)
        except UnsafeUrl as exc:
            return SendResult(elapsed(), error=f"refused: {exc}")
        except OutboundTimeout:
            return SendResult(elapsed(), error=f"timed out after {self._timeout:g}s")
        except OutboundFailed as exc:
            return SendResult(elapsed(), error=f"connection failed: {exc}")
        duration = elapsed()
        error = None
        if 300 <= answer.status < 400:
            error = f"redirect to {answer.headers.get('location', '?')!r} not followed"
        elif duration > self._timeout * 1000:
            error = f"answered after {duration} ms, more than the {self._timeout:g}s allowed"
        return SendResult(duration, status=answer.status, error=error,
                          excerpt=answer.body.decode("utf-8", errors="replace"),
                          retry_after=answer.headers.get("retry-after"))

    def close(self) -> None:
        self._http.close()
