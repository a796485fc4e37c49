"""What the service refuses, in domain terms; the HTTP edge maps each kind to its status code."""
from __future__ import annotations


class DomainError(Exception):
    code = "error"

    def __init__(self, detail: str, code: str | None = None, field: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.code
        self.field = field


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class NotReady(Conflict):
    """The order is not known here yet (order.created still on its way): ask again in a second."""

    code = "order_not_ready"


class Invalid(DomainError):
    code = "validation_error"


class InvalidTransition(Conflict):
    """The aggregate refuses a move its state does not allow."""
