"""Service-layer refusals → problem+json."""
from __future__ import annotations

from contextlib import contextmanager

from tillkey.platform.problems import ApiError, conflict, not_found, validation_error
from tillkey.webhooks.service_layer.errors import Conflict, Invalid, NotFound


@contextmanager
def translated():
    try:
        yield
    except NotFound as exc:
        raise not_found(str(exc)) from None
    except Conflict as exc:
        raise conflict(str(exc)) from None
    except Invalid as exc:
        raise validation_error({exc.field: [exc.message]}, detail=exc.message) from None


__all__ = ["translated", "ApiError"]
