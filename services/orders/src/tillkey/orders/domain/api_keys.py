"""A merchant's API keys as the registry knows them: named, listed by prefix, revocable.

The key itself is never kept: it verifies by its MAC (tillkey.platform.credentials), and the
registry keeps only its id (a hash of its nonce), its name and the prefix a list shows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tillkey.orders.domain.errors import Conflict

DEFAULT_NAME = "default"                       # the key given when the merchant is registered
ADOPTED_NAME = "issued before key names"       # a key older than the registry, seen calling


@dataclass(eq=False)
class ApiKey:
    key_id: str
    merchant_id: str
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None              # "merchant" or "admin"

    @property
    def live(self) -> bool:
        return self.revoked_at is None

    def revoke(self, now: datetime, by: str) -> bool:
        """True when this revoked it; False when it was revoked already (nothing changes)."""
        if not self.live:
            return False
        self.revoked_at, self.revoked_by = now, by
        return True


def check_not_last_calling_key(key: ApiKey, caller_key_id: str | None, live: list[ApiKey]) -> None:
    """A merchant may revoke the key it calls with, but not when no other live key would be left:
    it would lock itself out of the API (only an admin could give it a key again)."""
    if key.key_id == caller_key_id and not any(k.key_id != key.key_id for k in live):
        raise Conflict("This is the key you are calling with and your last live key: create another key "
                       "first, then revoke this one with the new key.", code="last_api_key")
