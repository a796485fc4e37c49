"""What a use case can refuse: the platform's refusals (tillkey.contracts.errors), whose kind decides
the problem+json status at the edge, said the way webhooks' use cases say them."""
from __future__ import annotations

from tillkey.contracts import errors

__all__ = ["Conflict", "Invalid", "NotFound"]

Conflict = errors.Conflict  # the object is in a state that does not allow the action (409)


class NotFound(errors.NotFound):
    """Not there, or not the caller's (both answer 404: existence is not revealed)."""

    def __init__(self, what: str):
        super().__init__(f"No such {what}.")
        self.what = what


class Invalid(errors.Invalid):
    """A field is unacceptable for a reason only the service can judge (422)."""

    def __init__(self, field: str, message: str):
        super().__init__(message, field=field)
        self.message = message
