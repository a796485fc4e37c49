"""The sandbox's HTTP edge: thin views over Gateway, problem+json errors, CORS for tokenization."""
from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from tillkey.payments.sandbox import home, validation
from tillkey.payments.sandbox.gateway import Answer, Gateway
from tillkey.payments.sandbox.validation import GatewayProblem
from tillkey.platform.rate_limits import RateLimits, client_address, install_rate_limits, rate_limited
from tillkey.platform.web import assets_blueprint

log = logging.getLogger("tillkey.sandbox")

# Only tokenization is called from the customer's browser (the payment page, another origin).
# Charges and refunds are server-to-server calls: no CORS headers, so a page cannot make them.
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "600",
}


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None,
          mimetype: str = "application/json") -> Response:
    resp = Response(json.dumps(body), status=status, mimetype=mimetype)
    resp.headers.update(headers or {})
    return resp


def problem(p: GatewayProblem) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": _TITLES.get(p.status, "Error"), "status": p.status,
                            "detail": p.detail, "code": p.code}
    if p.errors:
        body["errors"] = p.errors
    return _json(p.status, body, p.headers, mimetype="application/problem+json")


_TITLES = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
           422: "Unprocessable Content", 500: "Internal Server Error", 503: "Service Unavailable"}


def _body() -> dict[str, Any]:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise GatewayProblem(400, "bad_request", "The body must be a JSON object.")
    return body


def _answer(a: Answer) -> Response:
    return _json(a.status, a.body, {"Idempotent-Replayed": "true"} if a.replayed else None)


def create_app(gateway: Gateway, on_work: Callable[[], None] = lambda: None,
               rate_limits: RateLimits | None = None) -> Flask:
    """`on_work` wakes the notifier early (it also polls, so nothing depends on the nudge)."""
    app = Flask("tillkey.sandbox")
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # every request here is a few hundred bytes
    app.register_blueprint(home.bp)                # `/`: what this is, and its test cards
    app.register_blueprint(assets_blueprint())    # that page's look, and /favicon.ico

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.route("/v1/tokens", methods=["OPTIONS"])
    def tokens_preflight():
        headers = dict(CORS_HEADERS)
        asked = request.headers.get("Access-Control-Request-Headers")
        if asked:  # whatever the page's script sends; tokenization needs no credential
            headers["Access-Control-Allow-Headers"] = asked
        return Response(status=204, headers=headers, content_type="text/plain")

    @app.post("/v1/tokens")
    @rate_limited(("per_address", client_address))  # card testing starts by tokenizing cards
    def create_token():
        number, month, year, _cvc = validation.card(_body(), datetime.now(UTC).date())
        return _json(201, gateway.tokenize(number, month, year))

    @app.post("/v1/charges")
    def create_charge():
        key = validation.idempotency_key(request.headers.get("Idempotency-Key"))
        answer = gateway.charge(key, validation.charge(_body()))
        on_work()
        return _answer(answer)

    @app.get("/v1/charges/<charge_id>")
    def get_charge(charge_id: str):
        found = gateway.get_charge(charge_id)
        if found is None:
            raise GatewayProblem(404, "not_found", "No such charge.")
        return found

    @app.post("/v1/refunds")
    def create_refund():
        key = validation.idempotency_key(request.headers.get("Idempotency-Key"))
        answer = gateway.refund(key, validation.refund(_body()))
        on_work()
        return _answer(answer)

    @app.get("/v1/refunds/<refund_id>")
    def get_refund(refund_id: str):
        found = gateway.get_refund(refund_id)
        if found is None:
            raise GatewayProblem(404, "not_found", "No such refund.")
        return found

    @app.after_request
    def cors(resp: Response) -> Response:
        if request.path == "/v1/tokens":  # errors too, or the page's script could not read them
            resp.headers.setdefault("Access-Control-Allow-Origin", "*")
        return resp

    @app.errorhandler(GatewayProblem)
    def on_problem(p: GatewayProblem):
        return problem(p)

    @app.errorhandler(HTTPException)
    def on_http(exc: HTTPException):
        status = exc.code or 500
        return problem(GatewayProblem(status, {404: "not_found", 405: "method_not_allowed"}.get(status, "error"),
                                      exc.description or _TITLES.get(status, "Error")))

    @app.errorhandler(Exception)
    def on_crash(exc: Exception):
        # Logged without the request body or the exception's message: either may hold a card number.
        log.error("unhandled %s on %s %s\n%s", type(exc).__name__, request.method, request.path,
                  "".join(traceback.format_tb(exc.__traceback__)))
        return problem(GatewayProblem(500, "internal_error", "The sandbox gateway failed; retry later."))

    # One process by construction (see cli.py), so counting in memory is exact here.
    install_rate_limits(app, rate_limits or RateLimits(), storage_uri="memory://")
    return app
