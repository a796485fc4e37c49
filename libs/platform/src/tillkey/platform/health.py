"""`/healthz` (the process is up) and `/readyz` (its database and the broker answer)."""
from __future__ import annotations

import time

import pika
from flask import Blueprint, current_app, jsonify

from tillkey.platform.db import ping

bp = Blueprint("health", __name__)
_BROKER_CACHE_SECONDS = 5.0


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


def _broker_ok(amqp_url: str) -> bool:
    cache = current_app.extensions.setdefault("tillkey.broker_check", {"at": 0.0, "ok": False})
    if time.monotonic() - cache["at"] < _BROKER_CACHE_SECONDS:
        return cache["ok"]
    params = pika.URLParameters(amqp_url)
    params.socket_timeout = 2
    params.connection_attempts = 1
    try:
        pika.BlockingConnection(params).close()
        ok = True
    except Exception:  # noqa: BLE001 — any failure means "not ready"
        ok = False
    cache.update(at=time.monotonic(), ok=ok)
    return ok


@bp.get("/readyz")
def readyz():
    checks = {}
    try:
        ping(current_app.extensions["tillkey.engine"])
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["database"] = f"failed: {type(exc).__name__}"
    checks["broker"] = "ok" if _broker_ok(current_app.extensions["tillkey.amqp_url"]) else "unreachable"
    ready = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ready" if ready else "not_ready", "checks": checks}), 200 if ready else 503
