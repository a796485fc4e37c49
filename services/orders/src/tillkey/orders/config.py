"""Settings read from the environment inside bootstrap, never at import."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tillkey.platform import config as c

DEFAULT_DATABASE_URL = "sqlite:///var/orders.db"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    amqp_url: str = c.DEFAULT_AMQP_URL
    outbox_retention: float = c.DEFAULT_OUTBOX_RETENTION_SECONDS
    port: int = 8001
    admin_token: str = c.DEFAULT_ADMIN_TOKEN
    platform_secret: str = c.DEFAULT_PLATFORM_SECRET
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
            database_url=env.str("ORDERS_DATABASE_URL", DEFAULT_DATABASE_URL),
            amqp_url=env.str("AMQP_URL", c.DEFAULT_AMQP_URL),
            outbox_retention=env.duration("OUTBOX_RETENTION", c.DEFAULT_OUTBOX_RETENTION),
            port=env.int("ORDERS_PORT", 8001),
            admin_token=env.str("ADMIN_TOKEN", c.DEFAULT_ADMIN_TOKEN),
            platform_secret=env.str("PLATFORM_SECRET", c.DEFAULT_PLATFORM_SECRET),
            orders_public_url=env.str("ORDERS_PUBLIC_URL", c.DEFAULT_ORDERS_PUBLIC_URL).rstrip("/"),
            payments_public_url=env.str("PAYMENTS_PUBLIC_URL", c.DEFAULT_PAYMENTS_PUBLIC_URL).rstrip("/"),
            unpaid_reminder_after=env.duration("UNPAID_REMINDER_AFTER", "24h"),
            unpaid_order_ttl=env.duration("UNPAID_ORDER_TTL", "90d"),
            scheduler_interval=interval,
        )
