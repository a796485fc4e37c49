"""What the blueprints share: the service's handles and domain refusals as problem+json."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import current_app, g

from tillkey.payments.domain.errors import Conflict, DomainError, Invalid, NotFound, NotReady
from tillkey.platform.auth import require
from tillkey.platform.problems import ApiError

T = TypeVar("T")
_STATUS = ((NotFound, 404), (Conflict, 409), (Invalid, 422))


def service():
    return current_app.extensions["tillkey.payments"]


def to_api_error(exc: DomainError) -> ApiError:
    status = next((s for kind, s in _STATUS if isinstance(exc, kind)), 422)
    errors = {exc.field: [exc.detail]} if status == 422 and exc.field else None
    # "Not yet" is worth a retry in a second (the order is on its way from orders).
    headers = {"Retry-After": "1"} if isinstance(exc, NotReady) else None
    return ApiError(status, exc.detail, code=exc.code, errors=errors, headers=headers)


def run(use_case: Callable[..., T], command) -> T:
    """Run a use case with the wired dependencies; a refusal becomes its problem+json answer
    here (not in an app error handler) so `@idempotent` sees an ApiError and stores 4xx answers."""
    try:
        return use_case(command, service().deps)
    except DomainError as exc:
        raise to_api_error(exc) from None


def authorize(*kinds: str):
    """Check the credential before the body (a stranger's bad body is a 401, not a 422). The
    customer kind is scoped to the `order_id` in the path."""

    def decorate(view):
        @wraps(view)
        def wrapper(**kwargs):
            g.principal = require(*kinds, order_id=kwargs.get("order_id"))
            return view(**kwargs)

        wrapper.openapi = getattr(view, "openapi", None)
        return wrapper

    return decorate
