"""Self-verifying credentials: every service checks them alone, with no call and no lag.

- merchant API key `tk_<merchant_id>.<nonce>.<mac>`: names its merchant, MAC keyed by PLATFORM_SECRET;
  its id (`api_key_id`, derived from the nonce) is what a revocation names, and each service's
  denylist holds (tillkey.platform.revoked_keys, docs/architecture.md "Revoked API keys");
- order token: a MAC of the order id, opening that one order only.
Each MAC is domain-separated so a token of one kind never passes as another.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

_API_KEY = re.compile(r"^tk_(mer_[A-Za-z0-9]+)\.([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{43})$")


def _mac(secret: str, *parts: str) -> str:
    digest = hmac.new(secret.encode(), "\x1f".join(parts).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_api_key(secret: str, merchant_id: str) -> str:
    nonce = secrets.token_urlsafe(16)
    return f"tk_{merchant_id}.{nonce}.{_mac(secret, 'api_key', merchant_id, nonce)}"


def verify_api_key(secret: str, key: str) -> str | None:
    """The merchant id the key names, or None when it is not a key we issued."""
    match = _API_KEY.match(key or "")
    if not match:
        return None
    merchant_id, nonce, mac = match.groups()
    expected = _mac(secret, "api_key", merchant_id, nonce)
    return merchant_id if hmac.compare_digest(mac, expected) else None


def api_key_id(key: str) -> str | None:
    """The key's public id (`key_<20 hex>`), or None when `key` is not shaped like an API key.

    A hash of the nonce, not the nonce: the id is listed and sent in events, and must not be a
    part of the key. Every key has one, keys issued before the registry too.
    """
    match = _API_KEY.match(key or "")
    if not match:
        return None
    return "key_" + hashlib.sha256(b"api_key_id\x1f" + match.group(2).encode()).hexdigest()[:20]


def api_key_prefix(key: str) -> str:
    """What lists show of a key: its merchant and the nonce's first 6 characters, never the MAC."""
    match = _API_KEY.match(key or "")
    if not match:
        return ""
    return f"tk_{match.group(1)}.{match.group(2)[:6]}…"


def make_order_token(secret: str, order_id: str) -> str:
    return _mac(secret, "order_token", order_id)


def verify_order_token(secret: str, order_id: str, token: str) -> bool:
    return bool(token) and hmac.compare_digest(token, make_order_token(secret, order_id))


def verify_admin_token(expected: str, given: str) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def make_form_token(secret: str, subject: str) -> str:
    """A page's form token for `subject` (a cart id): a cross-site page cannot know it."""
    return _mac(secret, "form_token", subject)


def verify_form_token(secret: str, subject: str, token: str) -> bool:
    return bool(token) and hmac.compare_digest(token, make_form_token(secret, subject))
