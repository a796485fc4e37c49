"""Settings read from the environment inside bootstrap, never at import."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tillkey.platform import config as c

DEFAULT_DATABASE_URL = "sqlite:///var/webhooks.db"
DEFAULT_RETRY_SCHEDULE = "5s,5m,30m,2h,5h,10h,10h"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    amqp_url: str = c.DEFAULT_AMQP_URL
    outbox_retention: float = c.DEFAULT_OUTBOX_RETENTION_SECONDS
    port: int = 8005
    admin_token: str = c.DEFAULT_ADMIN_TOKEN
    platform_secret: str = c.DEFAULT_PLATFORM_SECRET
    retry_schedule: tuple[float, ...] = c.parse_schedule(DEFAULT_RETRY_SCHEDULE)
    timeout: float = 10.0
    allow_private_urls: bool = False
    senders: int = 16                 # sending threads: slow receivers wait in parallel, not in line
    per_endpoint: int = 4             # of those, at most this many busy with one endpoint

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Settings":
        env = c.Env(environ)
        timeout = env.duration("WEBHOOK_TIMEOUT", "10s")
        if timeout <= 0:
            raise c.ConfigError("WEBHOOK_TIMEOUT must be more than 0")
        return cls(
            database_url=env.str("WEBHOOKS_DATABASE_URL", DEFAULT_DATABASE_URL),
            amqp_url=env.str("AMQP_URL", c.DEFAULT_AMQP_URL),
            outbox_retention=env.duration("OUTBOX_RETENTION", c.DEFAULT_OUTBOX_RETENTION),
            port=env.int("WEBHOOKS_PORT", 8005),
            admin_token=env.str("ADMIN_TOKEN", c.DEFAULT_ADMIN_TOKEN),
            platform_secret=env.str("PLATFORM_SECRET", c.DEFAULT_PLATFORM_SECRET),
            retry_schedule=env.schedule("WEBHOOK_RETRY_SCHEDULE", DEFAULT_RETRY_SCHEDULE),
            timeout=timeout,
            allow_private_urls=env.bool("ALLOW_PRIVATE_URLS", False),
            senders=env.int("WEBHOOK_SENDERS", 16),
            per_endpoint=env.int("WEBHOOK_SENDERS_PER_ENDPOINT", 4),
        )
