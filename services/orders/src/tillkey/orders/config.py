"""Settings read from the environment inside bootstrap, never at import."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from tillkey.platform import config as c
from tillkey.platform.service_settings import ServiceSettings, public_url

DEFAULT_DATABASE_URL = "sqlite:///var/orders.db"


@dataclass(frozen=True)
class Settings(ServiceSettings):
    SERVICE: ClassVar[str] = "orders"
    database_url: str = DEFAULT_DATABASE_URL
    port: int = 8001
    orders_public_url: str = c.DEFAULT_ORDERS_PUBLIC_URL
    payments_public_url: str = c.DEFAULT_PAYMENTS_PUBLIC_URL
    # The lifecycle scheduler's durations (docs/architecture.md §2.4), in seconds.
    unpaid_reminder_after: float = 24 * 3600.0
    unpaid_order_ttl: float = 90 * 86400.0
    scheduler_interval: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Settings":
        env = c.Env(environ)
        interval = env.duration("SCHEDULER_INTERVAL", "30s")
        if interval <= 0:
            # 0 would make the scheduler spin on the database without pause.
            raise c.ConfigError("SCHEDULER_INTERVAL must be more than 0")
        return cls(
            **cls.common_from_env(env),
            orders_public_url=public_url(env, "ORDERS_PUBLIC_URL", c.DEFAULT_ORDERS_PUBLIC_URL),
            payments_public_url=public_url(env, "PAYMENTS_PUBLIC_URL", c.DEFAULT_PAYMENTS_PUBLIC_URL),
            unpaid_reminder_after=env.duration("UNPAID_REMINDER_AFTER", "24h"),
            unpaid_order_ttl=env.duration("UNPAID_ORDER_TTL", "90d"),
            scheduler_interval=interval,
        )
