"""Merchant API keys sealed at rest with AES-256-GCM: a copy of the database alone calls no API.

The key comes from PLATFORM_SECRET (through `config.derived_secret`), like fulfillment's sealed
signing keys: rotating PLATFORM_SECRET means re-entering each merchant's key (docs/dashboard.md).
"""
from __future__ import annotations

import base64
import hashlib
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
_CONTEXT = b"tillkey dashboard api key"


class AesGcmSealer:
    def __init__(self, secret: str):
        self._aead = AESGCM(hashlib.sha256(secret.encode()).digest())

    def seal(self, text: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, text.encode(), _CONTEXT)
        return f"{VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str) -> str:
        version, _, data = sealed.partition(".")
        if version != VERSION:
            raise ValueError(f"unknown seal version {version!r}")
        raw = base64.urlsafe_b64decode(data)
        return self._aead.decrypt(raw[:12], raw[12:], _CONTEXT).decode()
