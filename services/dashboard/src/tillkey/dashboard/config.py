"""Settings read from the environment inside bootstrap, never at import."""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from limits import parse_many

from tillkey.platform import config as c

DEFAULT_DATABASE_URL = "sqlite:///var/dashboard.db"
DEFAULT_PORT = 8006
# The services' public APIs the dashboard is a client of (docs/dashboard.md).
API_DEFAULTS = {"orders": "http://127.0.0.1:8001", "payments": "http://127.0.0.1:8002",
                "fulfillment": "http://127.0.0.1:8003", "notifications": "http://127.0.0.1:8004",
                "webhooks": "http://127.0.0.1:8005"}


def derived_secret(platform_secret: str, purpose: str) -> str:
    """A secret of its own per use, from the one every process already keeps: a cookie key that
    leaks opens no sealed API key, and the other way round."""
    return hmac.new(platform_secret.encode(), f"tillkey dashboard {purpose}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    port: int = DEFAULT_PORT
    amqp_url: str = c.DEFAULT_AMQP_URL   # the support console's dead letters (and /readyz/broker); it sends no events
    admin_token: str = c.DEFAULT_ADMIN_TOKEN
    platform_secret: str = c.DEFAULT_PLATFORM_SECRET
    cookie_secret: str = ""            # empty: derived from platform_secret
    cookie_secure: bool = False        # true behind HTTPS (production): the cookie never travels in clear
    session_lifetime: float = 12 * 3600.0
    orders_api_url: str = API_DEFAULTS["orders"]
    payments_api_url: str = API_DEFAULTS["payments"]
    fulfillment_api_url: str = API_DEFAULTS["fulfillment"]
    notifications_api_url: str = API_DEFAULTS["notifications"]
    webhooks_api_url: str = API_DEFAULTS["webhooks"]
    api_timeout: float = 10.0
    logins_per_address: str = "60/hour"
    logins_per_email: str = "10/15minutes"
    trusted_proxies: int = 0

    @property
    def secret_key(self) -> str:
        return self.cookie_secret or derived_secret(self.platform_secret, "cookies")

    @property
    def sealing_secret(self) -> str:
        return derived_secret(self.platform_secret, "sealed api keys")

    def api_url(self, service: str) -> str:
        return getattr(self, f"{service}_api_url")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        env = c.Env(environ)
        settings = cls(
            database_url=env.str("DASHBOARD_DATABASE_URL", DEFAULT_DATABASE_URL),
            port=env.int("DASHBOARD_PORT", DEFAULT_PORT),
            amqp_url=env.str("AMQP_URL", c.DEFAULT_AMQP_URL),
            admin_token=env.str("ADMIN_TOKEN", c.DEFAULT_ADMIN_TOKEN),
            platform_secret=env.str("PLATFORM_SECRET", c.DEFAULT_PLATFORM_SECRET),
            cookie_secret=env.str("DASHBOARD_COOKIE_SECRET", ""),
            cookie_secure=env.bool("DASHBOARD_COOKIE_SECURE", False),
            session_lifetime=env.duration("DASHBOARD_SESSION_LIFETIME", "12h"),
            orders_api_url=env.str("ORDERS_API_URL", "http://127.0.0.1:8001").rstrip("/"),
            payments_api_url=env.str("PAYMENTS_API_URL", "http://127.0.0.1:8002").rstrip("/"),
            fulfillment_api_url=env.str("FULFILLMENT_API_URL", "http://127.0.0.1:8003").rstrip("/"),
            notifications_api_url=env.str("NOTIFICATIONS_API_URL", "http://127.0.0.1:8004").rstrip("/"),
            webhooks_api_url=env.str("WEBHOOKS_API_URL", "http://127.0.0.1:8005").rstrip("/"),
            api_timeout=env.duration("DASHBOARD_API_TIMEOUT", "10s"),
            logins_per_address=env.str("RATE_LIMIT_LOGINS_PER_ADDRESS", "60/hour"),
            logins_per_email=env.str("RATE_LIMIT_LOGINS_PER_EMAIL", "10/15minutes"),
            trusted_proxies=env.int("TRUSTED_PROXIES", 0),
        )
        if settings.session_lifetime <= 0:
            raise c.ConfigError("DASHBOARD_SESSION_LIFETIME must be more than 0")
        for name, value in (("RATE_LIMIT_LOGINS_PER_ADDRESS", settings.logins_per_address),
                            ("RATE_LIMIT_LOGINS_PER_EMAIL", settings.logins_per_email)):
            try:
                parse_many(value)
            except ValueError:
                raise c.ConfigError(f"{name}: not a rate limit like '10/15minutes': {value!r}") from None
        return settings
