"""One error shape for every service: application/problem+json (RFC 9457) with a `code`."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Response, json
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from tillkey.contracts.errors import DomainError
from tillkey.platform.db_errors import RETRY_AFTER_SECONDS, database_unavailable
from tillkey.platform.db_errors import summary as db_summary

log = logging.getLogger(__name__)

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 410: "gone",
          413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_error",
          429: "too_many_requests", 500: "internal_error", 503: "unavailable"}


class ApiError(Exception):
    def __init__(self, status: int, detail: str, *, code: str | None = None, title: str | None = None,
                 errors: dict[str, list[str]] | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code or _CODES.get(status, "error")
        self.title = title
        self.errors = errors
        self.headers = headers or {}


def not_found(what: str) -> ApiError:
    return ApiError(404, f"No such {what}.", code="not_found")


def conflict(detail: str, code: str = "conflict") -> ApiError:
    return ApiError(409, detail, code=code)


def validation_error(errors: dict[str, list[str]], detail: str = "The request has invalid fields.") -> ApiError:
    return ApiError(422, detail, code="validation_error", errors=errors)


def refused(exc: DomainError) -> ApiError:
    """A domain refusal's problem+json answer: its kind's status, its code, the fields it names
    (422 only) and Retry-After when retrying later helps."""
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
    return ApiError(exc.status, exc.detail, code=exc.code, errors=exc.errors if exc.status == 422 else None,
                    headers=headers)


@contextmanager
def refusals_as_problems() -> Iterator[None]:
    """Around a use case at the edge: a refusal becomes its ApiError here, inside the view, so
    `@idempotent` sees it and stores the 4xx answer for replay like any other."""
    try:
        yield
    except DomainError as exc:
        raise refused(exc) from None


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages → {"customer.email": ["Not a valid email address."]}."""
    if isinstance(messages, dict):
        out: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = "" if key == "_schema" else str(key)
            path = f"{prefix}.{name}" if prefix and name else (prefix or name or "_schema")
            out.update(flatten_errors(value, path))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": list(messages)}
    if isinstance(messages, list):
        out = {}
        for m in messages:
            for k, v in flatten_errors(m, prefix).items():
                out.setdefault(k, []).extend(v)
        return out
    return {prefix or "_schema": [str(messages)]}


def problem_response(status: int, code: str, detail: str, title: str | None = None,
                     errors: dict | None = None, headers: dict | None = None) -> Response:
    body: dict[str, Any] = {
        "type": f"https://docs.tillkey.dev/errors/{code}",
        "title": title or code.replace("_", " ").capitalize(),
        "status": status, "detail": detail, "code": code,
    }
    if errors:
        body["errors"] = errors
    resp = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return problem_response(exc.status, exc.code, exc.detail, exc.title, exc.errors, exc.headers)

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError):
        return problem_response(422, "validation_error", "The request has invalid fields.",
                                errors=flatten_errors(exc.messages))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        original = getattr(exc, "original_exception", None)
        if original is not None:
            # Raised outside the view (an after-request hook: the rate limit's count), Flask hands
            # it over wrapped in a 500; a database gone is still a 503.
            return _unexpected(original)
        status = exc.code or 500
        headers = dict(exc.get_headers()) if status == 405 else {}
        headers.pop("Content-Type", None)
        return problem_response(status, _CODES.get(status, "error"), exc.description or exc.name,
                                title=exc.name, headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if database_unavailable(exc):
            # Expected while a database restarts: a warning, no traceback; the client retries.
            log.warning("database unavailable, answered 503: %s", db_summary(exc))
            return problem_response(503, "database_unavailable", "The service's database is briefly "
                                    "unavailable; try again in a moment.",
                                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        log.exception("unhandled error")
        return problem_response(500, "internal_error", "An internal error occurred; it has been logged.")
