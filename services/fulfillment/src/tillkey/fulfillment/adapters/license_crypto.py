"""Signing license tokens (PASETO v4.public, Ed25519) and the keyed hash keys are looked up by.

PASETO v4.public (the PASETO specification, version 4, purpose `public`) is small enough to write
down here: the token is `v4.public.` + base64url(message ‖ Ed25519 signature of PAE(header,
message, footer, implicit assertion)). The unit tests check it against the standard's test vector
4-S-1, so any PASETO library verifies our tokens, and docs/integration.md shows the 20 lines a
client needs without one.

The private keys are sealed (tillkey.platform.sealing, AES-256-GCM bound to the product id) under a
key derived from PLATFORM_SECRET (the secret every service already keeps): a copy of the database
alone signs nothing. Rotating PLATFORM_SECRET therefore needs the keys re-sealed — docs/integration.md
says so.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tillkey.platform.sealing import Sealer, derive_key

HEADER = b"v4.public."


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pae(*pieces: bytes) -> bytes:
    """PASETO's pre-authentication encoding: the count, then each piece's length and bytes (LE64)."""
    out = len(pieces).to_bytes(8, "little")
    for piece in pieces:
        out += (len(piece) & 0x7FFFFFFFFFFFFFFF).to_bytes(8, "little") + piece
    return out


def sign_v4_public(private_key: Ed25519PrivateKey, message: bytes, footer: bytes = b"",
                   implicit: bytes = b"") -> str:
    signature = private_key.sign(pae(HEADER, message, footer, implicit))
    token = HEADER.decode() + _b64url(message + signature)
    return token + ("." + _b64url(footer) if footer else "")


def verify_v4_public(public_key: Ed25519PublicKey, token: str, implicit: bytes = b"") -> bytes:
    """The message of a token the key signed; ValueError for anything else."""
    if not token.startswith(HEADER.decode()):
        raise ValueError("not a v4.public token")
    parts = token[len(HEADER):].split(".")
    if len(parts) > 2:
        raise ValueError("malformed token")
    try:
        body = _unb64url(parts[0])
        footer = _unb64url(parts[1]) if len(parts) == 2 else b""
    except ValueError:
        raise ValueError("malformed token") from None
    if len(body) < 64:
        raise ValueError("malformed token")
    message, signature = body[:-64], body[-64:]
    try:
        public_key.verify(signature, pae(HEADER, message, footer, implicit))
    except InvalidSignature:
        raise ValueError("bad signature") from None
    return message


class LicenseCrypto:
    """Everything secret about generated keys, derived from PLATFORM_SECRET."""

    def __init__(self, platform_secret: str):
        self._sealer = Sealer(derive_key(platform_secret, "tillkey.fulfillment.signing-keys.v1"), prefix="v1:")
        self._lookup_key = derive_key(platform_secret, "tillkey.fulfillment.license-key-lookup.v1")

    def lookup_hash(self, normalized_key: str) -> str:
        """HMAC-SHA256 of the key: the same work for every input, and useless without the secret."""
        return hmac.new(self._lookup_key, normalized_key.encode(), hashlib.sha256).hexdigest()

    def new_key_pair(self, product_id: str) -> tuple[str, str]:
        """(public key PEM, sealed private key) for a product."""
        private = Ed25519PrivateKey.generate()
        public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                    serialization.NoEncryption())
        return public_pem, self._sealer.seal(raw, product_id.encode())

    def _private_key(self, product_id: str, sealed_private_key: str) -> Ed25519PrivateKey:
        """SealBroken (a ValueError) for a key sealed under another secret or another product."""
        return Ed25519PrivateKey.from_private_bytes(self._sealer.open(sealed_private_key, product_id.encode()))

    def sign_token(self, product_id: str, sealed_private_key: str, claims: dict) -> str:
        message = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
        return sign_v4_public(self._private_key(product_id, sealed_private_key), message)


def load_public_key(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key
