"""License sources: how a product's licenses are obtained, and the pool's low-stock alarm.

Pure Python: mapped to tables imperatively in adapters/tables.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

SOURCE_METHODS = ("web_service", "pool", "email", "manual", "generated")
DEFAULT_LOW_STOCK_THRESHOLD = 10
MAX_EMAIL_TEXT = 10_000
MAX_KEY_LENGTH = 500
MAX_KEYS_PER_CALL = 1000


@dataclass(eq=False)
class LicenseSource:
    """A product's source. Absent means `manual` (docs/architecture.md §2.3)."""

    product_id: str
    merchant_id: str
    method: str
    updated_at: datetime
    url: str | None = None
    secret: str | None = None      # signs calls to the web service; shown once, when generated
    text: str | None = None        # the informational text of an `email` source
    # A `generated` source (docs/integration.md): the keys' prefix, activations allowed per key
    # (None: unlimited), days of validity from purchase (None: perpetual), and whether a full
    # refund revokes the order's keys.
    prefix: str | None = None
    activation_limit: int | None = None
    valid_days: int | None = None
    revoke_on_refund: bool | None = None

    def replace(self, method: str, updated_at: datetime, *, url: str | None = None, secret: str | None = None,
                text: str | None = None, generated: GeneratedSettings | None = None) -> None:
        """A PUT replaces the whole source: what the new method does not use is forgotten."""
        if method not in SOURCE_METHODS:
            raise ValueError(f"unknown license source method {method!r}")
        if method == "web_service" and not (url and secret):
            raise ValueError("a web_service source needs a url and a secret")
        if method == "email" and not text:
            raise ValueError("an email source needs its text")
        self.method, self.updated_at = method, updated_at
        self.url, self.secret = (url, secret) if method == "web_service" else (None, None)
        self.text = text if method == "email" else None
        if method == "generated" and generated is None:
            raise ValueError("a generated source needs its settings")
        g = generated if method == "generated" and generated is not None else GeneratedSettings(None, None, None, None)
        self.prefix, self.activation_limit, self.valid_days, self.revoke_on_refund = (
            g.prefix, g.activation_limit, g.valid_days, g.revoke_on_refund)

    @property
    def generated(self) -> GeneratedSettings | None:
        if self.method != "generated":
            return None
        return GeneratedSettings(self.prefix, self.activation_limit, self.valid_days, self.revoke_on_refund)


@dataclass(frozen=True)
class GeneratedSettings:
    prefix: str | None
    activation_limit: int | None
    valid_days: int | None
    revoke_on_refund: bool | None


@dataclass(eq=False)
class Pool:
    """A product's pool settings and alarm state; the keys themselves are rows of their own.

    The alarm fires once per crossing: the first claim that leaves fewer than
    `low_stock_threshold` keys disarms it (one `license_pool.low`), and only an upload that brings
    the pool back to the threshold or above re-arms it. A threshold of 0 never fires.
    """

    product_id: str
    merchant_id: str
    low_stock_threshold: int = DEFAULT_LOW_STOCK_THRESHOLD
    alarm_armed: bool = True

    def set_threshold(self, threshold: int) -> None:
        self.low_stock_threshold = threshold
        self.alarm_armed = True  # a new threshold starts a new watch: the next low claim tells the merchant

    def after_claim(self, available: int) -> bool:
        """True when this claim crossed below the threshold (emit `license_pool.low` once)."""
        if self.alarm_armed and available < self.low_stock_threshold:
            self.alarm_armed = False
            return True
        return False

    def after_upload(self, available: int) -> None:
        if available >= self.low_stock_threshold:
            self.alarm_armed = True


def clean_keys(keys: list[str]) -> tuple[list[str], int]:
    """Keys as stored (surrounding whitespace dropped), first occurrence kept: (unique, repeats)."""
    unique = list(dict.fromkeys(k.strip() for k in keys))
    return unique, len(keys) - len(unique)


def wait_reason_for_pool(available: int, quantity: int) -> str:
    if available == 0:
        return "license pool is empty"
    return f"license pool has {available} license(s) left; the line needs {quantity}"
