"""HTTP client of the services' public APIs: problem+json answers become the service layer's errors."""
from __future__ import annotations

import logging
import threading
from typing import Any

import requests

from tillkey.dashboard.service_layer.errors import NotFound, Rejected, Unavailable

log = logging.getLogger("tillkey.dashboard.api")


class HttpPlatformApi:
    def __init__(self, base_urls: dict[str, str], timeout: float = 10.0):
        self.base_urls, self.timeout = base_urls, timeout
        self._local = threading.local()     # a requests.Session per thread: gunicorn runs threads

    def _http(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()     # kept connections: a page makes several calls
        return self._local.session

    def call(self, service: str, method: str, path: str, api_key: str, *, params: dict[str, Any] | None = None,
             body: dict[str, Any] | None = None, idempotency_key: str | None = None) -> dict[str, Any]:
        url = self.base_urls[service] + path
        headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            resp = self._http().request(method, url, params=params, json=body, timeout=self.timeout,
                                        headers=headers)
        except requests.RequestException as exc:
            log.warning("%s %s%s: %s", method, service, path, type(exc).__name__)
            raise Unavailable(service) from None
        if resp.status_code == 404:
            raise NotFound(path)
        if resp.status_code >= 500 or resp.status_code in (401, 403, 429):
            # 401/403: the kept key no longer works (revoked, secret rotated): a problem for the
            # operator, not something the merchant's form can fix.
            log.warning("%s %s%s answered %s", method, service, path, resp.status_code)
            raise Unavailable(service)
        if resp.status_code >= 400:
            problem = _json(resp)
            raise Rejected(problem.get("detail") or "The request was refused.", problem.get("errors") or {})
        return _json(resp) if resp.content else {}


def _json(resp: requests.Response) -> dict[str, Any]:
    try:
        value = resp.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
