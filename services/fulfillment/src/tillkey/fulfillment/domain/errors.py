"""What a use case refuses, in words the HTTP edge turns into problem+json (never a 500)."""
from __future__ import annotations


class NotFound(Exception):
    def __init__(self, what: str):
        super().__init__(f"No such {what}.")
        self.what = what


class Conflict(Exception):
    """The call is valid but the object is not in a state that allows it (409)."""


class Invalid(Exception):
    """Field errors the schema could not see (422): `errors` maps a field path to messages."""

    def __init__(self, errors: dict[str, list[str]], detail: str = "The request has invalid fields."):
        super().__init__(detail)
        self.errors = errors


class Unavailable(Exception):
    """A peer we need for this call is down; the caller may try again shortly (503)."""
