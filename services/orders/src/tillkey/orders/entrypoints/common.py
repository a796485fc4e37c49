"""What every blueprint of this service shares: running a command, mapping domain errors, auth."""
from __future__ import annotations

from functools import wraps
from typing import Any

from flask import Response, current_app, g, jsonify

from tillkey.orders.service_layer.access import Viewer
from tillkey.platform.auth import require
from tillkey.platform.problems import refusals_as_problems


def run(command):
    """Hand a command to the service; a refused one becomes its problem+json answer
    (tillkey.platform.problems.refused)."""
    with refusals_as_problems():
        return current_app.extensions["tillkey.orders"].handle(command)


def as_built(view: dict[str, Any], status: int) -> Response:
    """Send an answer that views.py built in its response schema's shape as it is: the schema's dump
    (which `@endpoint` skips for a Response) gave back the same document, at about 6% of the API's
    CPU on the hot paths. The schema still documents it; the tests check the dump would not change it."""
    resp = jsonify(view)
    resp.status_code = status
    return resp


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
