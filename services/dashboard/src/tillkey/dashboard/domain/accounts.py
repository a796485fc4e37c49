"""Merchant users and their sign-in sessions: the only data the dashboard owns (docs/dashboard.md)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256      # argon2 hashes any length; a megabyte "password" is only a way to burn CPU
MAX_EMAIL_LENGTH = 320
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class InvalidAccount(ValueError):
    """An email or password that cannot make an account: {field: message}."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def normalize_email(text: str) -> str:
    """One spelling per address: the sign-in form and the account must meet whatever the case."""
    email = (text or "").strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise InvalidAccount({"email": "An email address like name@example.com."})
    return email


def password_problem(password: str) -> str | None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return f"At least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"At most {MAX_PASSWORD_LENGTH} characters."
    return None


@dataclass(frozen=True)
class MerchantUser:
    user_id: str
    merchant_id: str
    email: str
    password_hash: str


@dataclass(frozen=True)
class SignInSession:
    """A row per sign-in: the browser holds only a random token whose hash names the row, so
    signing out everywhere is deleting rows, and a stolen database holds no usable token."""

    token_hash: str
    user_id: str
    created_at: datetime
    expires_at: datetime

    def active(self, now: datetime) -> bool:
        return now < self.expires_at


@dataclass(frozen=True)
class Invitation:
    """A one-time link for a colleague: only the token's hash is kept, as for sessions."""

    invitation_id: str
    token_hash: str
    merchant_id: str
    email: str
    invited_by: str
    created_at: datetime
    expires_at: datetime

    def active(self, now: datetime) -> bool:
        return now < self.expires_at
