"""Standard Webhooks signatures (https://www.standardwebhooks.com), both sides.

One implementation for everything we sign or verify this way: webhooks to merchants, calls to
merchant license web services, and the sandbox gateway's notifications to payments.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _random
import time

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the standard asks for at least 24 random bytes
TOLERANCE_SECONDS = 5 * 60


class SignatureError(ValueError):
    pass


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(_random.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("the secret is not whsec_ + base64") from None


def signature(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`."""
    mac = hmac.new(_key(secret), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(secrets: list[str], msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    """The three webhook-* headers; during a rotation one signature per secret, space-separated."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, msg_id, timestamp, body) for s in secrets),
    }


def verify(secret: str, headers_: dict[str, str], body: str, now: float | None = None) -> str:
    """The message id if one signature matches and the timestamp is fresh; else SignatureError."""
    h = {k.lower(): v for k, v in headers_.items()}
    msg_id, stamp, sigs = h.get("webhook-id"), h.get("webhook-timestamp"), h.get("webhook-signature")
    if not (msg_id and stamp and sigs):
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise SignatureError("webhook-timestamp is not a number") from None
    if abs((now if now is not None else time.time()) - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError("webhook-timestamp is outside the tolerance (replay?)")
    expected = signature(secret, msg_id, timestamp, body)
    if any(hmac.compare_digest(expected, s) for s in sigs.split(" ")):
        return msg_id
    raise SignatureError("no signature matches")
