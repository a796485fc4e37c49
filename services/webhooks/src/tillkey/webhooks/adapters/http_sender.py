"""Sending one webhook over HTTP, through the shared SSRF guard."""
from __future__ import annotations

import socket
import time

import requests

from tillkey.platform.urls import UnsafeUrl, guarded_session
from tillkey.webhooks.domain.policy import SendResult

EXCERPT_BYTES = 1024
USER_AGENT = "Tillkey-Webhooks/1"


class HttpSender:
    """POSTs with a total time budget, never follows redirects, reads at most 1 KB of the answer.

    Only the first kilobyte is read (it is all the delivery log keeps), so a receiver answering
    with an endless body cannot hold a sending thread.
    """

    def __init__(self, timeout: float, allow_private: bool, resolver=socket.getaddrinfo):
        self._timeout = timeout
        self._allow_private = allow_private
        self._resolver = resolver

    def send(self, url: str, body: str, headers: dict[str, str]) -> SendResult:
        started = time.monotonic()
        elapsed = lambda: int((time.monotonic() - started) * 1000)
        # A session per send: requests sessions are not thread-safe, and the guard pins the
        # address it checked to this connection.
        with guarded_session(allow_private=self._allow_private, resolver=self._resolver) as session:
            try:
                resp = session.post(url, data=body.encode(), timeout=(self._timeout, self._timeout),
                                    allow_redirects=False, stream=True,
                                    headers={**headers, "content-type": "application/json",
                                             "user-agent": USER_AGENT})
            except UnsafeUrl as exc:
                return SendResult(elapsed(), error=f"refused: {exc}")
            except requests.Timeout:
                return SendResult(elapsed(), error=f"timed out after {self._timeout:g}s")
            except requests.RequestException as exc:
                return SendResult(elapsed(), error=f"connection failed: {type(exc).__name__}: {_short(exc)}")
            try:
                raw = resp.raw.read(EXCERPT_BYTES, decode_content=True) or b""
            except Exception:  # noqa: BLE001 — a broken body does not change the status we got
                raw = b""
            finally:
                resp.close()
        duration = elapsed()
        error = None
        if 300 <= resp.status_code < 400:
            error = f"redirect to {resp.headers.get('location', '?')!r} not followed"
        elif duration > self._timeout * 1000:
            error = f"answered after {duration} ms, more than the {self._timeout:g}s allowed"
        return SendResult(duration, status=resp.status_code, error=error,
                          excerpt=raw.decode("utf-8", errors="replace"),
                          retry_after=resp.headers.get("retry-after"))


def _short(exc: Exception) -> str:
    return str(exc)[:300]
