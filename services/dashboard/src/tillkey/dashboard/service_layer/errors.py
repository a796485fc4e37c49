"""Failures a page turns into an answer (never a 500)."""
from __future__ import annotations


class SignInFailed(Exception):
    """Wrong email or password: one message for both, so the form tells no one which emails exist."""


class AlreadyExists(Exception):
    pass


class NotFound(Exception):
    """Not there, or another merchant's: the dashboard does not say which."""


class Rejected(Exception):
    """A service refused the merchant's input (4xx): its detail and field errors go back to the form."""

    def __init__(self, detail: str, errors: dict[str, list[str]] | None = None):
        super().__init__(detail)
        self.detail, self.errors = detail, errors or {}


class Unavailable(Exception):
    """A service did not answer or failed (5xx, timeout): the page says so and changes nothing."""
