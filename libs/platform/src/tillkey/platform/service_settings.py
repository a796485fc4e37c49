"""The settings every service reads alike, once: its database and port, the broker, the admin
token, the platform secret and how long published outbox rows are kept (README, "Configuration").

A service's `Settings` is a frozen dataclass that extends `ServiceSettings`, names itself in
`SERVICE` (which names its own variables, `<SERVICE>_DATABASE_URL` and `<SERVICE>_PORT`), gives its
database and port their defaults, and reads its own settings after these:

    @dataclass(frozen=True)
    class Settings(ServiceSettings):
        SERVICE: ClassVar[str] = "orders"
        database_url: str = "sqlite:///var/orders.db"
        port: int = 8001
        scheduler_interval: float = 30.0

        @classmethod
        def from_env(cls, environ):
            env = Env(environ)
            return cls(**cls.common_from_env(env), scheduler_interval=env.duration(...))
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from tillkey.platform import config as c


@dataclass(frozen=True)
class ServiceSettings:
    SERVICE: ClassVar[str] = ""

    database_url: str = ""
    port: int = 0
    amqp_url: str = c.DEFAULT_AMQP_URL
    admin_token: str = c.DEFAULT_ADMIN_TOKEN
    platform_secret: str = c.DEFAULT_PLATFORM_SECRET
    outbox_retention: float = c.DEFAULT_OUTBOX_RETENTION_SECONDS

    @classmethod
    def common_from_env(cls, env: c.Env) -> dict[str, Any]:
        """The shared fields, read from the environment with this service's defaults."""
        if not cls.SERVICE:
            raise TypeError(f"{cls.__name__} must name its service in SERVICE")
        prefix = cls.SERVICE.upper()
        return {  # cls.database_url, cls.port: a dataclass keeps each field's default on the class
            "database_url": env.str(f"{prefix}_DATABASE_URL", cls.database_url),
            "port": env.int(f"{prefix}_PORT", cls.port),
            "amqp_url": env.str("AMQP_URL", c.DEFAULT_AMQP_URL),
            "admin_token": env.str("ADMIN_TOKEN", c.DEFAULT_ADMIN_TOKEN),
            "platform_secret": env.str("PLATFORM_SECRET", c.DEFAULT_PLATFORM_SECRET),
            "outbox_retention": env.duration("OUTBOX_RETENTION", c.DEFAULT_OUTBOX_RETENTION),
        }


def public_url(env: c.Env, name: str, default: str) -> str:
    """A base URL links are built on: without its trailing slash, so a path joins with one."""
    return env.str(name, default).rstrip("/")
