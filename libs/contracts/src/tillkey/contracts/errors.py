"""What a use case refuses, said in the domain's words: one base for every service, and part of
the API's contract with merchants (each kind is one problem+json status and `code`).

Pure Python on purpose (no Flask here), so a domain may import it: domains and service layers
raise these, and only the HTTP edge turns one into its problem+json answer
(`tillkey.platform.problems.refused`), so the status codes are decided in one place for the whole
platform (docs/architecture.md §5 and §10).
A service may subclass a kind to say something of its own (`NotReady(Conflict)`, "ask again in a
second"), keeping the kind's status.
"""
from __future__ import annotations


class DomainError(Exception):
    status = 422
    code = "error"
    retry_after: int | None = None   # seconds, for the Retry-After header (a refusal worth retrying)

    def __init__(self, detail: str, code: str | None = None, *, field: str | None = None,
                 errors: dict[str, list[str]] | None = None, retry_after: int | None = None):
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.code
        self.field = field
        # Per-field messages (422): given whole, or the one `field` the detail is about.
        self.errors = errors if errors is not None else ({field: [detail]} if field else None)
        if retry_after is not None:
            self.retry_after = retry_after


class NotFound(DomainError):
    """Not there, or not the caller's to know of (another merchant's): both answer 404."""

    status, code = 404, "not_found"


class Forbidden(DomainError):
    """The caller may see the object but not do this to it."""

    status, code = 403, "forbidden"


class Conflict(DomainError):
    """The request is valid but the object's state forbids it now (a checked-out cart)."""

    status, code = 409, "conflict"


class Gone(DomainError):
    """The object exists but is withdrawn (an inactive product's checkout link)."""

    status, code = 410, "gone"


class Invalid(DomainError):
    """Well-formed input the business rules refuse (a currency the product has no price in)."""

    status, code = 422, "validation_error"


class TooSoon(DomainError):
    """Allowed, but not again this soon (a customer pressing "resend" over and over)."""

    status, code = 429, "too_many_requests"


class Unavailable(DomainError):
    """A peer this call needs is down; the caller may try again shortly."""

    status, code, retry_after = 503, "unavailable", 5
