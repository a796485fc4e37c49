"""What every blueprint of this service shares: running a command, mapping domain errors, auth."""
from __future__ import annotations

from functools import wraps

from flask import current_app, g

from tillkey.orders.domain.errors import Conflict, DomainError, Forbidden, Gone, Invalid, NotFound, TooSoon
from tillkey.orders.service_layer.commands import Viewer
from tillkey.platform.auth import require
from tillkey.platform.problems import ApiError

_STATUS = {NotFound: 404, Conflict: 409, Gone: 410, Invalid: 422, Forbidden: 403, TooSoon: 429}


def to_api_error(exc: DomainError) -> ApiError:
    status = next((s for kind, s in _STATUS.items() if isinstance(exc, kind)), 422)
    errors = {exc.field: [exc.detail]} if status == 422 and exc.field else None
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooSoon) else None
    return ApiError(status, exc.detail, code=exc.code, errors=errors, headers=headers)


def run(command):
    """Hand a command to the service; a refused one becomes its problem+json answer.

    Converted here (not in an app error handler) so `@idempotent` sees an ApiError and stores
    the 4xx answer for replay, as it does for every other refusal.
    """
    try:
        return current_app.extensions["tillkey.orders"].handle(command)
    except DomainError as exc:
        raise to_api_error(exc) from None


def authorize(*kinds: str, order_scoped: bool = False):
    """Check the credential before anything else (a bad body from a stranger is a 401, not a 422).

    `order_scoped`: the route's `order_id` is what a customer's order token must open.
    """

    def decorate(view):
        @wraps(view)
        def wrapper(**kwargs):
            g.principal = require(*kinds, order_id=kwargs.get("order_id") if order_scoped else None)
            return view(**kwargs)

        wrapper.openapi = getattr(view, "openapi", None)
        return wrapper

    return decorate


def viewer() -> Viewer:
    p = g.principal
    return Viewer(p.kind, p.merchant_id, p.order_id)


def merchant_id() -> str:
    return g.principal.merchant_id


def settings():
    return current_app.extensions["tillkey.orders"].settings
