"""Settings read from the environment inside bootstrap, never at import."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from tillkey.platform import config as c
from tillkey.platform.service_settings import ServiceSettings

DEFAULT_DATABASE_URL = "sqlite:///var/webhooks.db"
DEFAULT_RETRY_SCHEDULE = "5s,5m,30m,2h,5h,10h,10h"


@dataclass(frozen=True)
class Settings(ServiceSettings):
    SERVICE: ClassVar[str] = "webhooks"
    database_url: str = DEFAULT_DATABASE_URL
    port: int = 8005
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
            **cls.common_from_env(env),
            retry_schedule=env.schedule("WEBHOOK_RETRY_SCHEDULE", DEFAULT_RETRY_SCHEDULE),
            timeout=timeout,
            allow_private_urls=env.bool("ALLOW_PRIVATE_URLS", False),
            senders=env.int("WEBHOOK_SENDERS", 16),
            per_endpoint=env.int("WEBHOOK_SENDERS_PER_ENDPOINT", 4),
        )
