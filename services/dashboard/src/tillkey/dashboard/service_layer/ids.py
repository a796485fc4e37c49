"""Ids from the browser go into the APIs' paths: nothing that could change the path gets there."""
from __future__ import annotations

import re

from tillkey.dashboard.service_layer.errors import NotFound

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# A form's own random key (secrets.token_urlsafe(24)), sent as the Idempotency-Key of what it asks.
FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def checked(identifier: str) -> str:
    """The id, or NotFound (the page a wrong id deserves) for `..`, `%2F` and the like."""
    if not _ID.match(identifier or ""):
        raise NotFound(identifier)
    return identifier
