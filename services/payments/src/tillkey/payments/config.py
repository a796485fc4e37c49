"""Settings read from the environment inside bootstrap, never at import."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from tillkey.payments.sandbox.settings import DEFAULT_SECRET as SANDBOX_DEV_SECRET
from tillkey.platform import config as c
from tillkey.platform.service_settings import ServiceSettings, public_url

DEFAULT_DATABASE_URL = "sqlite:///var/payments.db"
DEFAULT_SANDBOX_URL = "http://127.0.0.1:8009"
# Development only, and the sandbox process's own default: `make run` works without setting it on
# either side (two different defaults made every notification fail its signature check).
DEFAULT_SANDBOX_SECRET = SANDBOX_DEV_SECRET
DEFAULT_BANK_TRANSFER_DUE = "14d"
DEFAULT_SCHEDULER_INTERVAL = "30s"
# A card attempt committed here but not acknowledged by the gateway after this long is sent again
# (same idempotency key): the API process died between its commit and the gateway call.
DEFAULT_RESUBMIT_AFTER = "30s"
# ... and given up on (failed `gateway_unavailable`) when the gateway stays unreachable this long.
DEFAULT_GIVE_UP_AFTER = "15m"


@dataclass(frozen=True)
class Settings(ServiceSettings):
    SERVICE: ClassVar[str] = "payments"
    database_url: str = DEFAULT_DATABASE_URL
    port: int = 8002
    payments_public_url: str = c.DEFAULT_PAYMENTS_PUBLIC_URL
    orders_public_url: str = c.DEFAULT_ORDERS_PUBLIC_URL
    sandbox_gateway_url: str = DEFAULT_SANDBOX_URL
    sandbox_public_url: str = DEFAULT_SANDBOX_URL
    sandbox_gateway_secret: str = DEFAULT_SANDBOX_SECRET
    bank_account_holder: str = "Tillkey Demo Payments"
    bank_name: str = "Demo Bank"
    bank_iban: str = "DE89370400440532013000"
    bank_bic: str = "COBADEFFXXX"
    bank_transfer_due: float = c.parse_duration(DEFAULT_BANK_TRANSFER_DUE)  # seconds
    scheduler_interval: float = c.parse_duration(DEFAULT_SCHEDULER_INTERVAL)
    resubmit_after: float = c.parse_duration(DEFAULT_RESUBMIT_AFTER)
    give_up_after: float = c.parse_duration(DEFAULT_GIVE_UP_AFTER)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        env = c.Env(environ)
        d = cls()
        return cls(
            **cls.common_from_env(env),
            payments_public_url=public_url(env, "PAYMENTS_PUBLIC_URL", c.DEFAULT_PAYMENTS_PUBLIC_URL),
            orders_public_url=public_url(env, "ORDERS_PUBLIC_URL", c.DEFAULT_ORDERS_PUBLIC_URL),
            sandbox_gateway_url=env.str("SANDBOX_GATEWAY_URL", DEFAULT_SANDBOX_URL),
            sandbox_public_url=env.str("SANDBOX_PUBLIC_URL", DEFAULT_SANDBOX_URL),
            sandbox_gateway_secret=env.str("SANDBOX_GATEWAY_SECRET", DEFAULT_SANDBOX_SECRET),
            bank_account_holder=env.str("BANK_ACCOUNT_HOLDER", d.bank_account_holder),
            bank_name=env.str("BANK_NAME", d.bank_name),
            bank_iban=env.str("BANK_IBAN", d.bank_iban),
            bank_bic=env.str("BANK_BIC", d.bank_bic),
            bank_transfer_due=env.duration("BANK_TRANSFER_DUE", DEFAULT_BANK_TRANSFER_DUE),
            scheduler_interval=env.duration("SCHEDULER_INTERVAL", DEFAULT_SCHEDULER_INTERVAL),
            resubmit_after=env.duration("PAYMENTS_GATEWAY_RESUBMIT_AFTER", DEFAULT_RESUBMIT_AFTER),
            give_up_after=env.duration("PAYMENTS_GATEWAY_GIVE_UP_AFTER", DEFAULT_GIVE_UP_AFTER),
        )
