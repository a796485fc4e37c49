"""Generated license keys (source `generated`): their format, their state, and their activations.

Pure Python: mapped to tables imperatively in adapters/tables.py. Signing and the lookup hash are
adapters (adapters/license_crypto.py); docs/integration.md describes the key and its token.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tillkey.fulfillment.domain.model import _utc

# Crockford's base32: no I, L, O or U, so a key read aloud or copied by hand is not misread.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS, GROUP_SIZE = 5, 5                      # 25 characters of 5 bits: 125 random bits per key
RANDOM_BITS = GROUPS * GROUP_SIZE * 5
DEFAULT_PREFIX = "KEY"
PREFIX_PATTERN = r"^[A-Z0-9]{1,12}$"
MAX_KEY_INPUT = 100                            # longer than any key we make, with room for spaces
MAX_ACTIVATION_LIMIT = 1_000_000
MAX_VALID_DAYS = 36_500
KEY_STATUSES = ("active", "revoked")
REVOKE_REASONS = ("refund", "merchant", "order_deleted")


def new_key(prefix: str) -> str:
    """`PREFIX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX`, each X drawn by `secrets` (125 bits in all)."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_SIZE))
    groups = [chars[i:i + GROUP_SIZE] for i in range(0, len(chars), GROUP_SIZE)]
    return "-".join([prefix, *groups])


def normalize_key(text: str) -> str:
    """The form keys are looked up by: what a customer pastes, without surrounding blanks, in capitals.

    Every input goes the same way (no format check that answers early): guesses and real keys
    cost the same (see service_layer/licensing.py)."""
    return re.sub(r"\s+", "", text).upper()


class LicenseRefused(Exception):
    """An activation the key's state does not allow: `code` says why (the API's 409 code)."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code


@dataclass(eq=False)
class Activation:
    """One machine using a key. `instance_name` and `fingerprint` identify a customer's machine:
    personal data, deleted with the order."""

    activation_id: str
    key_id: str
    instance_name: str | None
    fingerprint: str | None
    created_at: datetime


@dataclass(eq=False)
class GeneratedKey:
    """A key we generated for an order line; `key_hash` (keyed) is what the public API looks it up by."""

    key_id: str
    product_id: str
    merchant_id: str
    order_id: str
    line_id: str
    key: str | None                     # null once the order is erased; the hash stays so it answers revoked
    key_hash: str
    token: str                          # the signed license token (PASETO v4.public), re-signed on change
    activation_limit: int | None        # None: unlimited
    issued_at: datetime
    expires_at: datetime | None         # None: perpetual
    position: int = 0                   # its place in the line's `licenses`
    status: str = "active"
    revoked_reason: str | None = None
    revoked_at: datetime | None = None

    def state(self, now: datetime) -> str:
        """valid, expired or revoked: what validation answers for this key."""
        if self.status == "revoked":
            return "revoked"
        if self.expires_at is not None and _utc(self.expires_at) <= _utc(now):
            return "expired"
        return "valid"

    def check_activation(self, active: int, now: datetime) -> None:
        state = self.state(now)
        if state == "revoked":
            raise LicenseRefused("license_revoked", "This license key was revoked.")
        if state == "expired":
            raise LicenseRefused("license_expired", "This license key has expired.")
        if self.activation_limit is not None and active >= self.activation_limit:
            raise LicenseRefused("activation_limit_reached",
                                 f"This license key is already activated on {active} of its "
                                 f"{self.activation_limit} allowed instance(s); deactivate one first.")

    def revoke(self, reason: str, now: datetime) -> bool:
        """True when this call revoked it (a second revoke changes nothing and emits nothing)."""
        if reason not in REVOKE_REASONS:
            raise ValueError(f"unknown revoke reason {reason!r}")
        if self.status == "revoked":
            return False
        self.status, self.revoked_reason, self.revoked_at = "revoked", reason, now
        return True

    def reinstate(self) -> bool:
        """The merchant re-enables a revoked key; an erased order's key stays revoked."""
        if self.status != "revoked" or self.revoked_reason == "order_deleted":
            return False
        self.status, self.revoked_reason, self.revoked_at = "active", None, None
        return True

    def erase(self, now: datetime) -> None:
        """The order was deleted: the key text goes, and the key answers revoked from then on."""
        if self.status != "revoked":
            self.revoked_at = now
        self.status, self.revoked_reason, self.key = "revoked", "order_deleted", None


def token_claims(key: GeneratedKey, key_text: str) -> dict[str, Any]:
    """What the signed token says (docs/integration.md): the client checks `key_sha256` against the
    key it was given, `exp` against its clock, and the product against its own."""
    claims: dict[str, Any] = {
        "iss": "tillkey", "product_id": key.product_id, "key_id": key.key_id,
        "key_sha256": hashlib.sha256(normalize_key(key_text).encode()).hexdigest(),
        "activation_limit": key.activation_limit, "iat": _iso(key.issued_at)}
    if key.expires_at is not None:
        claims["exp"] = _iso(key.expires_at)
    return claims


def _iso(dt: datetime) -> str:
    return _utc(dt).isoformat(timespec="seconds")


def expiry(issued_at: datetime, valid_days: int | None) -> datetime | None:
    return None if valid_days is None else issued_at + timedelta(days=valid_days)


@dataclass(eq=False)
class SigningKey:
    """A product's Ed25519 key pair: made once, kept when the source changes, so keys issued
    earlier stay verifiable. The private half is stored sealed (adapters/license_crypto.py)."""

    product_id: str
    public_key: str             # PEM (SubjectPublicKeyInfo): what merchants build into their software
    sealed_private_key: str
    created_at: datetime
