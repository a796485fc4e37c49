"""What a use case refuses: the platform's refusals (tillkey.contracts.errors), whose kind decides
the problem+json status at the edge (never a 500), said the way fulfillment's use cases say them."""
from __future__ import annotations

from tillkey.contracts import errors

__all__ = ["Conflict", "Invalid", "NotFound", "Unavailable"]

Conflict = errors.Conflict        # the call is valid but the object's state does not allow it (409)
Unavailable = errors.Unavailable  # a peer this call needs is down; try again shortly (503)


class NotFound(errors.NotFound):
    def __init__(self, what: str):
        super().__init__(f"No such {what}.")
        self.what = what


class Invalid(errors.Invalid):
    """Field errors the schema could not see (422): `errors` maps a field path to messages."""

    def __init__(self, errors: dict[str, list[str]], detail: str = "The request has invalid fields."):
        super().__init__(detail, errors=errors)
