"""The sandbox gateway's settings, read from the environment when the process starts."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tillkey.platform.config import ConfigError, Env

DEFAULT_DATABASE_URL = "sqlite:///var/sandbox.db"
# Development only (33 bytes after "whsec_"; Standard Webhooks wants at least 24). Payments must
# be given the same value in SANDBOX_GATEWAY_SECRET; production sets its own.
DEFAULT_SECRET = "whsec_c2FuZGJveC1nYXRld2F5LWRldi1zZWNyZXQtMDAwMDAw"
DEFAULT_RETRY_SCHEDULE = "2s,10s,30s,2m,10m,30m,1h,2h,4h"


@dataclass(frozen=True)
class SandboxSettings:
    database_path: Path = Path("var/sandbox.db")
    host: str = "127.0.0.1"
    port: int = 8009
    secret: str = DEFAULT_SECRET
    settle_delay: float = 0.2  # seconds between a 202 and the charge's (or refund's) result
    retry_schedule: tuple[float, ...] = (2, 10, 30, 120, 600, 1800, 3600, 7200, 14400)
    give_up_after: float = 86400.0  # a notification is retried (last interval repeating) for about a day
    notify_timeout: float = 10.0
    notify_concurrency: int = 8  # notifications in flight at once, as a provider's are
    poll_interval: float = 5.0  # the longest nap: it wakes for new work and when the next item falls due
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SandboxSettings:
        env = Env(environ)
        return cls(
            database_path=sqlite_path(env.str("SANDBOX_DATABASE_URL", DEFAULT_DATABASE_URL)),
            host=env.str("SANDBOX_HOST", "127.0.0.1"),
            port=env.int("SANDBOX_PORT", 8009),
            secret=env.str("SANDBOX_GATEWAY_SECRET", DEFAULT_SECRET),
            settle_delay=env.duration("SANDBOX_SETTLE_DELAY", "200ms"),
            retry_schedule=env.schedule("SANDBOX_NOTIFY_RETRY_SCHEDULE", DEFAULT_RETRY_SCHEDULE),
            give_up_after=env.duration("SANDBOX_NOTIFY_GIVE_UP_AFTER", "24h"),
            notify_timeout=env.duration("SANDBOX_NOTIFY_TIMEOUT", "10s"),
            notify_concurrency=env.int("SANDBOX_NOTIFY_CONCURRENCY", 8),
            poll_interval=env.duration("SANDBOX_POLL_INTERVAL", "5s"),
            log_level=env.str("LOG_LEVEL", "INFO").upper(),
        )


def sqlite_path(url: str) -> Path:
    """`sqlite:///var/sandbox.db` (relative) or `sqlite:////abs/sandbox.db` → a file path."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ConfigError(f"SANDBOX_DATABASE_URL must be a sqlite:/// file URL, got {url!r}")
    return Path(url[len(prefix):])
