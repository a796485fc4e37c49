"""Every service reads its shared settings the same way, from variables named after it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pytest

from tillkey.platform.config import ConfigError, Env
from tillkey.platform.service_settings import ServiceSettings, public_url


@dataclass(frozen=True)
class ShopSettings(ServiceSettings):
    SERVICE: ClassVar[str] = "shop"
    database_url: str = "sqlite:///var/shop.db"
    port: int = 8077
    extra: int = 1


def test_defaults_are_the_services_own_and_its_variables_carry_its_name():
    assert ShopSettings(**ShopSettings.common_from_env(Env({}))) == ShopSettings()
    read = ShopSettings.common_from_env(Env({
        "SHOP_DATABASE_URL": "postgresql://db/shop", "SHOP_PORT": "9000", "AMQP_URL": "amqp://b/",
        "ADMIN_TOKEN": "t", "PLATFORM_SECRET": "s", "OUTBOX_RETENTION": "2h", "ORDERS_PORT": "1"}))
    assert read == {"database_url": "postgresql://db/shop", "port": 9000, "amqp_url": "amqp://b/",
                    "admin_token": "t", "platform_secret": "s", "outbox_retention": 7200.0}


def test_bad_values_name_their_variable():
    with pytest.raises(ConfigError, match="SHOP_PORT"):
        ShopSettings.common_from_env(Env({"SHOP_PORT": "eighty"}))
    with pytest.raises(ConfigError, match="OUTBOX_RETENTION"):
        ShopSettings.common_from_env(Env({"OUTBOX_RETENTION": "soon"}))


def test_a_settings_class_must_name_its_service():
    @dataclass(frozen=True)
    class Nameless(ServiceSettings):
        pass

    with pytest.raises(TypeError, match="SERVICE"):
        Nameless.common_from_env(Env({}))


def test_public_urls_lose_their_trailing_slash():
    assert public_url(Env({"ORDERS_PUBLIC_URL": "https://shop.example/"}), "ORDERS_PUBLIC_URL", "x") == \
        "https://shop.example"
    assert public_url(Env({}), "ORDERS_PUBLIC_URL", "http://127.0.0.1:8001") == "http://127.0.0.1:8001"
