"""What can go wrong in a use case, said in the domain's words; the HTTP edge maps each to a status.

Kept free of HTTP so handlers and aggregates can be tested without Flask, and so one table in
`entrypoints` decides the status codes (404 / 409 / 410 / 422) in one place.
"""
from __future__ import annotations


class DomainError(Exception):
    code = "error"

    def __init__(self, detail: str, *, field: str | None = None, code: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if code:
            self.code = code


class NotFound(DomainError):
    """The object does not exist, or the caller may not know it does (another merchant's)."""

    code = "not_found"


class Conflict(DomainError):
    """The request is valid but the object's state forbids it now (a checked-out cart)."""

    code = "conflict"


class Gone(DomainError):
    """The object exists but is withdrawn (an inactive product's checkout link)."""

    code = "gone"


class Invalid(DomainError):
    """Well-formed input the business rules refuse (a currency the product has no price in)."""

    code = "validation_error"


class Forbidden(DomainError):
    """The caller may see the object but not do this to it."""

    code = "forbidden"


class TooSoon(DomainError):
    """Allowed, but not again this soon (a customer pressing "resend" over and over)."""

    code = "too_many_requests"

    def __init__(self, detail: str, *, retry_after: int, **kw):
        super().__init__(detail, **kw)
        self.retry_after = retry_after
