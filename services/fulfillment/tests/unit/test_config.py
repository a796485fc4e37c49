import pytest

from tillkey.fulfillment.config import Settings
from tillkey.platform.config import ConfigError


def test_defaults_need_no_variable():
    s = Settings.from_env({})
    assert s == Settings()
    assert (s.database_url, s.port, s.allow_private_urls) == ("sqlite:///var/fulfillment.db", 8003, False)
    assert s.license_web_service_retry_schedule == (10, 60, 300, 1800, 7200)


def test_every_variable_is_read():
    s = Settings.from_env({"FULFILLMENT_DATABASE_URL": "postgresql://db/f", "AMQP_URL": "amqp://x",
                           "FULFILLMENT_PORT": "9003", "ADMIN_TOKEN": "a", "PLATFORM_SECRET": "s",
                           "ORDERS_PUBLIC_URL": "https://o", "ALLOW_PRIVATE_URLS": "true",
                           "LICENSE_WEB_SERVICE_RETRY_SCHEDULE": "1s,2m"})
    assert (s.database_url, s.amqp_url, s.port, s.admin_token, s.platform_secret, s.orders_public_url) == (
        "postgresql://db/f", "amqp://x", 9003, "a", "s", "https://o")
    assert s.allow_private_urls is True and s.license_web_service_retry_schedule == (1, 120)


@pytest.mark.parametrize("env", [{"FULFILLMENT_PORT": "x"}, {"ALLOW_PRIVATE_URLS": "maybe"},
                                 {"LICENSE_WEB_SERVICE_RETRY_SCHEDULE": "10s,soon"}])
def test_bad_values_name_the_variable(env):
    with pytest.raises(ConfigError, match=next(iter(env))):
        Settings.from_env(env)


def test_orders_internal_url_defaults_to_the_public_one():
    assert Settings.from_env({"ORDERS_PUBLIC_URL": "https://shop.example"}).orders_internal_url == "https://shop.example"
    s = Settings.from_env({"ORDERS_PUBLIC_URL": "https://shop.example", "ORDERS_INTERNAL_URL": "http://orders:8001"})
    assert s.orders_internal_url == "http://orders:8001"


def test_license_web_service_timeout():
    assert Settings.from_env({}).license_web_service_timeout == 10
    assert Settings.from_env({"LICENSE_WEB_SERVICE_TIMEOUT": "2.5s"}).license_web_service_timeout == 2.5
    with pytest.raises(ConfigError, match="LICENSE_WEB_SERVICE_TIMEOUT"):
        Settings.from_env({"LICENSE_WEB_SERVICE_TIMEOUT": "soon"})
