"""Merchant API keys sealed at rest (tillkey.platform.sealing): a copy of the database alone calls no API.

The key comes from PLATFORM_SECRET through `config.derived_secret`: rotating PLATFORM_SECRET means
re-entering each merchant's key (docs/dashboard.md).
"""
from __future__ import annotations

import hashlib

from tillkey.platform.sealing import Sealer

_CONTEXT = b"tillkey dashboard api key"


class AesGcmSealer:
    def __init__(self, secret: str):
        # SHA-256 of the derived secret: the key the keys already stored were sealed with. "v1." and
        # padded base64 were this format's before the sealing moved to libs; both still open.
        self._sealer = Sealer(hashlib.sha256(secret.encode()).digest(), prefix="v1.")

    def seal(self, text: str) -> str:
        return self._sealer.seal(text.encode(), _CONTEXT)

    def open(self, sealed: str) -> str:
        """The key; SealBroken (a ValueError) when it was sealed under another secret or altered."""
        return self._sealer.open(sealed, _CONTEXT).decode()
