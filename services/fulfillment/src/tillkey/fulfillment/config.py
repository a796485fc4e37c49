"""Settings read from the environment inside bootstrap, never at import."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import ClassVar

from limits import parse_many

from tillkey.platform import config as c
from tillkey.platform.rate_limits import RateLimits
from tillkey.platform.service_settings import ServiceSettings, public_url

DEFAULT_DATABASE_URL = "sqlite:///var/fulfillment.db"
DEFAULT_RETRY_SCHEDULE = "10s,1m,5m,30m,2h"
DEFAULT_TIMEOUT = "10s"


@dataclass(frozen=True)
class Settings(ServiceSettings):
    SERVICE: ClassVar[str] = "fulfillment"
    database_url: str = DEFAULT_DATABASE_URL
    port: int = 8003
    orders_public_url: str = c.DEFAULT_ORDERS_PUBLIC_URL
    # Where fulfillment asks orders who owns a product it has not heard of (docs/architecture.md §6); inside a
    # cluster this is the orders service's own address, not the public ingress.
    orders_internal_url: str = c.DEFAULT_ORDERS_PUBLIC_URL
    # docs/integration.md, "License web service": services on private addresses are refused unless this is on.
    allow_private_urls: bool = False
    license_web_service_retry_schedule: tuple[float, ...] = c.parse_schedule(DEFAULT_RETRY_SCHEDULE)  # seconds
    license_web_service_timeout: float = c.parse_duration(DEFAULT_TIMEOUT)  # connect and read, each

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        env = c.Env(environ)
        orders_public_url = public_url(env, "ORDERS_PUBLIC_URL", c.DEFAULT_ORDERS_PUBLIC_URL)
        return cls(
            **cls.common_from_env(env),
            orders_public_url=orders_public_url,
            orders_internal_url=env.str("ORDERS_INTERNAL_URL", orders_public_url),
            allow_private_urls=env.bool("ALLOW_PRIVATE_URLS", False),
            license_web_service_retry_schedule=env.schedule("LICENSE_WEB_SERVICE_RETRY_SCHEDULE",
                                                            DEFAULT_RETRY_SCHEDULE),
            license_web_service_timeout=env.duration("LICENSE_WEB_SERVICE_TIMEOUT", DEFAULT_TIMEOUT),
        )


@dataclass(frozen=True)
class LicenseRateLimits(RateLimits):
    """The platform's abuse limits plus the public license API's: per client address and per key.

    A key's software validates at start and now and then, and activates once per machine: far
    below these. A guesser's every try counts (not_found too)."""

    license_calls_per_address: str = "600/hour"
    license_calls_per_key: str = "120/hour"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> LicenseRateLimits:
        env = c.Env(environ)
        limits = cls(**asdict(RateLimits.from_env(environ)),
                     license_calls_per_address=env.str("RATE_LIMIT_LICENSE_CALLS_PER_ADDRESS", "600/hour"),
                     license_calls_per_key=env.str("RATE_LIMIT_LICENSE_CALLS_PER_KEY", "120/hour"))
        for name, value in (("RATE_LIMIT_LICENSE_CALLS_PER_ADDRESS", limits.license_calls_per_address),
                            ("RATE_LIMIT_LICENSE_CALLS_PER_KEY", limits.license_calls_per_key)):
            try:
                parse_many(value)
            except ValueError:
                raise c.ConfigError(f"{name}: not a rate limit like '30/hour' or '600/hour;2000/day': "
                                    f"{value!r}") from None
        return limits
