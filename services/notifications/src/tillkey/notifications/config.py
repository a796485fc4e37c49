"""Settings read from the environment inside bootstrap, never at import."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tillkey.platform import config as c

DEFAULT_DATABASE_URL = "sqlite:///var/notifications.db"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    amqp_url: str = c.DEFAULT_AMQP_URL
    port: int = 8004
    admin_token: str = c.DEFAULT_ADMIN_TOKEN
    platform_secret: str = c.DEFAULT_PLATFORM_SECRET
    orders_public_url: str = c.DEFAULT_ORDERS_PUBLIC_URL
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_from: str = "Tillkey <no-reply@tillkey.local>"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Settings":
        env = c.Env(environ)
        return cls(
            database_url=env.str("NOTIFICATIONS_DATABASE_URL", DEFAULT_DATABASE_URL),
            amqp_url=env.str("AMQP_URL", c.DEFAULT_AMQP_URL),
            port=env.int("NOTIFICATIONS_PORT", 8004),
            admin_token=env.str("ADMIN_TOKEN", c.DEFAULT_ADMIN_TOKEN),
            platform_secret=env.str("PLATFORM_SECRET", c.DEFAULT_PLATFORM_SECRET),
            orders_public_url=env.str("ORDERS_PUBLIC_URL", c.DEFAULT_ORDERS_PUBLIC_URL),
            smtp_host=env.str("SMTP_HOST", "127.0.0.1"),
            smtp_port=env.int("SMTP_PORT", 1025),
            smtp_from=env.str("SMTP_FROM", "Tillkey <no-reply@tillkey.local>"),
        )
