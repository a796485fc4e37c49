"""The one composition root: settings in, wired dashboard out."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Unpack

from tillkey.dashboard.adapters.dead_letters import BrokerDeadLetters
from tillkey.dashboard.adapters.passwords import Argon2Hasher
from tillkey.dashboard.adapters.platform_api import HttpPlatformApi
from tillkey.dashboard.adapters.sealing import AesGcmSealer
from tillkey.dashboard.adapters.uow import SqlUnitOfWork
from tillkey.dashboard.config import API_DEFAULTS, Settings
from tillkey.dashboard.service_layer.ports import DeadLetterQueues, PasswordHasher, PlatformApi, Sealer
from tillkey.platform.clock import Clock, SystemClock
from tillkey.platform.db import make_engine
from tillkey.platform.overrides import CommonOverrides, refuse_unknown

SERVICE = "dashboard"


@dataclass
class Dashboard:
    settings: Settings
    engine: object
    uow_factory: Callable[[], SqlUnitOfWork]
    hasher: PasswordHasher
    sealer: Sealer
    api: PlatformApi
    clock: Clock
    dead_letters: DeadLetterQueues


class Overrides(CommonOverrides, total=False):
    """What a test may swap; any other key is refused (tillkey.platform.overrides)."""

    api: PlatformApi
    hasher: PasswordHasher
    sealer: Sealer
    dead_letters: DeadLetterQueues


def bootstrap(settings: Settings, **overrides: Unpack[Overrides]) -> Dashboard:
    refuse_unknown(overrides, Overrides)
    engine = overrides.get("engine") or make_engine(settings.database_url)
    api = overrides.get("api") or HttpPlatformApi({s: settings.api_url(s) for s in API_DEFAULTS},
                                                  settings.api_timeout)
    return Dashboard(settings, engine, overrides.get("uow_factory") or partial(SqlUnitOfWork, engine),
                     overrides.get("hasher") or Argon2Hasher(), overrides.get("sealer")
                     or AesGcmSealer(settings.sealing_secret), api, overrides.get("clock") or SystemClock(),
                     overrides.get("dead_letters") or BrokerDeadLetters(settings.amqp_url))
