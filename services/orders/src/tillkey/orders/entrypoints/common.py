"""What every blueprint of this service shares: running a command, mapping domain errors, auth."""
from __future__ import annotations

from functools import wraps

from flask import current_app, g

from tillkey.orders.domain.errors import Conflict, DomainError, Forbidden, Gone, Invalid, NotFound
from tillkey.platform.auth import require
from tillkey.platform.problems import ApiError

_STATUS = {NotFound: 404, Conflict: 409, Gone: 410, Invalid: 422, Forbidden: 403}


def to_api_error(exc: DomainError) -> ApiError:
    status = next((s for kind, s in _STATUS.items() if isinstance(exc, kind)), 422)
    errors = {exc.field: [exc.detail]} if status == 422 and exc.field else None
    return ApiError(status, exc.detail, code=exc.code, errors=errors)


def run(command):
    """Hand a command to the service; a refused one becomes its problem+json answer.

    Converted here (not in an app error handler) so `@idempotent` sees an ApiError and stores
    the 4xx answer for replay, as it does for every other refusal.
    """
    try:
        return current_app.extensions["tillkey.orders"].handle(command)
    except DomainError as exc:
        raise to_api_error(exc) from None


def authorize(*kinds: str):
    """Check the credential before anything else (a bad body from a stranger is a 401, not a 422)."""

    def decorate(view):
        @wraps(view)
        def wrapper(**kwargs):
            g.principal = require(*kinds)
            return view(**kwargs)

        wrapper.openapi = getattr(view, "openapi", None)
        return wrapper

    return decorate


def merchant_id() -> str:
    return g.principal.merchant_id


def settings():
    return current_app.extensions["tillkey.orders"].settings
