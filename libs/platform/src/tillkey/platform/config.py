"""Reading settings from the environment (inside bootstrap, never at import time)."""
from __future__ import annotations

import builtins
import re
from collections.abc import Mapping

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


class ConfigError(ValueError):
    pass


def parse_duration(text: str) -> float:
    """'30s', '5m', '24h', '90d', '250ms' (bare numbers are seconds) → seconds."""
    match = _DURATION.match(str(text))
    if not match:
        raise ConfigError(f"not a duration: {text!r} (use a number with s, m, h or d)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def parse_schedule(text: str) -> tuple[float, ...]:
    """'5s,5m,30m' → (5.0, 300.0, 1800.0)."""
    parts = [p for p in str(text).split(",") if p.strip()]
    if not parts:
        raise ConfigError(f"empty schedule: {text!r}")
    return tuple(parse_duration(p) for p in parts)


def parse_bool(text: str) -> bool:
    value = str(text).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"not a boolean: {text!r}")


class Env:
    """Typed reads with defaults, naming the variable in every error."""

    def __init__(self, environ: Mapping[str, str]):
        self._environ = environ

    def str(self, name: str, default: str) -> str:
        return self._environ.get(name) or default

    def int(self, name: builtins.str, default: int) -> int:
        raw = self._environ.get(name)
        try:
            return int(raw) if raw else default
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None

    def bool(self, name: builtins.str, default: bool) -> bool:
        raw = self._environ.get(name)
        try:
            return parse_bool(raw) if raw is not None else default
        except ConfigError as exc:
            raise ConfigError(f"{name}: {exc}") from None

    def duration(self, name: builtins.str, default: builtins.str) -> float:
        try:
            return parse_duration(self._environ.get(name) or default)
        except ConfigError as exc:
            raise ConfigError(f"{name}: {exc}") from None

    def schedule(self, name: builtins.str, default: builtins.str) -> tuple[float, ...]:
        try:
            return parse_schedule(self._environ.get(name) or default)
        except ConfigError as exc:
            raise ConfigError(f"{name}: {exc}") from None


# Development defaults shared by every service, so that `make run` needs no variable.
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
DEFAULT_ADMIN_TOKEN = "dev-admin-token"
DEFAULT_PLATFORM_SECRET = "dev-platform-secret-change-me"
DEFAULT_ORDERS_PUBLIC_URL = "http://127.0.0.1:8001"
DEFAULT_PAYMENTS_PUBLIC_URL = "http://127.0.0.1:8002"
# Published outbox rows are deleted after this (they hold copies of personal data).
DEFAULT_OUTBOX_RETENTION = "24h"
DEFAULT_OUTBOX_RETENTION_SECONDS = 86400.0
