"""What the blueprints share: the service's handles and domain refusals as problem+json."""
from __future__ import annotations

from functools import wraps
from typing import Any

from flask import current_app, g

from tillkey.platform.auth import require
from tillkey.platform.problems import refusals_as_problems


def service():
    return current_app.extensions["tillkey.payments"]


def run(command: Any) -> Any:
    """Run a command or query through the service's handler table; a refusal becomes its
    problem+json answer (tillkey.platform.problems.refused)."""
    with refusals_as_problems():
        return service().handle(command)


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
