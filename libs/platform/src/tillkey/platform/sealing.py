"""Secrets kept at rest sealed with AES-256-GCM, so a copy of a database alone opens none of them.

Two services seal: fulfillment the private halves of its license-signing keys, the dashboard the
merchants' API keys it calls the services with. Each derives a key of its own from PLATFORM_SECRET
(`derive_key`, one label per use) and names what a sealed value belongs to as its `context` (the
AEAD's associated data): a value copied onto another row does not open there. Rotating
PLATFORM_SECRET therefore means sealing them again (docs/integration.md, docs/dashboard.md).

A sealed value is `<prefix><base64url(nonce ‖ ciphertext ‖ tag)>`; the prefix names the format's
version, so a later one can be told apart. Opening accepts the base64 with or without padding.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12  # AES-GCM's standard nonce: random per seal, stored in front of the ciphertext


class SealBroken(ValueError):
    """The value was not sealed by this key for this context, was altered, or is not a sealed value."""


def derive_key(platform_secret: str, label: str) -> bytes:
    """A 256-bit key of its own per use (HMAC-SHA256 of the label under the secret): a key that
    leaks for one use opens nothing sealed for another."""
    return hmac.new(platform_secret.encode(), label.encode(), hashlib.sha256).digest()


class Sealer:
    def __init__(self, key: bytes, prefix: str = "v1:"):
        self._aead = AESGCM(key)
        self._prefix = prefix

    def seal(self, plaintext: bytes, context: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, context)
        return self._prefix + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def open(self, sealed: str, context: bytes) -> bytes:
        if not sealed.startswith(self._prefix):
            raise SealBroken(f"not a sealed value of this format (expected {self._prefix!r} in front)")
        text = sealed[len(self._prefix):]
        try:
            data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except ValueError:
            raise SealBroken("the sealed value is not base64url") from None
        try:
            return self._aead.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], context)
        except (InvalidTag, ValueError):
            raise SealBroken("the sealed value does not open with this key and context") from None
