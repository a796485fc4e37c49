"""`/healthz` (the process is up), `/readyz` (it can serve: its database answers) and
`/readyz/broker` (the broker answers).

Readiness leaves the broker out on purpose: a request only writes to the database (events go to the
outbox, which the worker's relay publishes later), so during a broker outage the API still serves
correctly. Failing /readyz then would take every API pod out of its load balancer for nothing.
The broker's state is a separate check and the metric `tillkey_broker_up`.
"""
from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify

from tillkey.platform.broker_addresses import broker_parameters, open_blocking_connection
from tillkey.platform.db import ping
from tillkey.platform.metrics import ScrapeCollector

bp = Blueprint("health", __name__)
_BROKER_CACHE_SECONDS = 5.0


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


class BrokerCheck:
    """Connects at most every 5 s (probes and scrapes share the answer), never per request."""

    def __init__(self, amqp_url: str):
        self._amqp_url = amqp_url
        self._at, self._ok = -_BROKER_CACHE_SECONDS, False

    def ok(self) -> bool:
        if time.monotonic() - self._at < _BROKER_CACHE_SECONDS:
            return self._ok
        every = broker_parameters(self._amqp_url)  # one answering address is enough
        for params in every:
            params.socket_timeout = 2
            params.connection_attempts = 1
        try:
            open_blocking_connection(every).close()
            ok = True
        except Exception:  # noqa: BLE001 — any failure means "unreachable"
            ok = False
        self._at, self._ok = time.monotonic(), ok
        return ok

    def collector(self, service: str) -> ScrapeCollector:
        return ScrapeCollector("tillkey_broker_up", "1 when the broker took a connection (checked every 5 s at most)",
                               ["service"], lambda: {(service,): 1.0 if self.ok() else 0.0})


@bp.get("/readyz")
def readyz():
    try:
        ping(current_app.extensions["tillkey.engine"])
        checks = {"database": "ok"}
    except Exception as exc:  # noqa: BLE001
        checks = {"database": f"failed: {type(exc).__name__}"}
    ready = checks["database"] == "ok"
    return jsonify({"status": "ready" if ready else "not_ready", "checks": checks}), 200 if ready else 503


@bp.get("/readyz/broker")
def broker():
    ok = current_app.extensions["tillkey.broker_check"].ok()
    return jsonify({"status": "ok" if ok else "unreachable", "checks": {"broker": "ok" if ok else "unreachable"}}), \
        200 if ok else 503
