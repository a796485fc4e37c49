"""Settings read from the environment inside bootstrap, never at import."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from tillkey.platform import config as c
from tillkey.platform.service_settings import ServiceSettings, public_url

DEFAULT_DATABASE_URL = "sqlite:///var/notifications.db"
DEFAULT_SMTP_FROM = "Tillkey <no-reply@tillkey.local>"
# Short first: most outages are a restart. The last step repeats until the give-up window ends.
DEFAULT_RETRY_SCHEDULE = "10s,30s,1m,5m,15m,30m,1h"
# Long on purpose: a mail server down over a weekend still delivers everything on Monday.
DEFAULT_GIVE_UP_AFTER = "5d"


@dataclass(frozen=True)
class Settings(ServiceSettings):
    SERVICE: ClassVar[str] = "notifications"
    database_url: str = DEFAULT_DATABASE_URL
    port: int = 8004
    orders_public_url: str = c.DEFAULT_ORDERS_PUBLIC_URL
    payments_public_url: str = c.DEFAULT_PAYMENTS_PUBLIC_URL
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_from: str = DEFAULT_SMTP_FROM
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_timeout: float = 30.0
    retry_schedule: tuple[float, ...] = c.parse_schedule(DEFAULT_RETRY_SCHEDULE)
    give_up_after: float = c.parse_duration(DEFAULT_GIVE_UP_AFTER)
    sender_poll_interval: float = 1.0  # a safety net: the consumer wakes the sender

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Settings":
        env = c.Env(environ)
        return cls(
            **cls.common_from_env(env),
            orders_public_url=public_url(env, "ORDERS_PUBLIC_URL", c.DEFAULT_ORDERS_PUBLIC_URL),
            payments_public_url=public_url(env, "PAYMENTS_PUBLIC_URL", c.DEFAULT_PAYMENTS_PUBLIC_URL),
            smtp_host=env.str("SMTP_HOST", "127.0.0.1"),
            smtp_port=env.int("SMTP_PORT", 1025),
            smtp_from=env.str("SMTP_FROM", DEFAULT_SMTP_FROM),
            smtp_starttls=env.bool("SMTP_STARTTLS", False),
            smtp_user=env.str("SMTP_USER", ""),
            smtp_password=env.str("SMTP_PASSWORD", ""),
            smtp_timeout=env.duration("SMTP_TIMEOUT", "30s"),
            retry_schedule=env.schedule("SMTP_RETRY_SCHEDULE", DEFAULT_RETRY_SCHEDULE),
            give_up_after=env.duration("SMTP_GIVE_UP_AFTER", DEFAULT_GIVE_UP_AFTER),
        )
