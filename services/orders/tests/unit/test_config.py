import pytest

from tillkey.orders.config import Settings
from tillkey.platform.config import ConfigError


def test_defaults_need_no_variable():
    s = Settings.from_env({})
    assert (s.database_url, s.port, s.unpaid_reminder_after, s.unpaid_order_ttl, s.scheduler_interval) == (
        "sqlite:///var/orders.db", 8001, 86400.0, 90 * 86400.0, 30.0)


def test_environment_is_read():
    s = Settings.from_env({"ORDERS_DATABASE_URL": "postgresql://db/orders", "ORDERS_PORT": "9001",
                           "ORDERS_PUBLIC_URL": "https://shop.example/", "PAYMENTS_PUBLIC_URL": "https://pay.example",
                           "UNPAID_REMINDER_AFTER": "2h", "UNPAID_ORDER_TTL": "7d", "SCHEDULER_INTERVAL": "5s"})
    assert (s.database_url, s.port, s.orders_public_url, s.payments_public_url) == (
        "postgresql://db/orders", 9001, "https://shop.example", "https://pay.example")
    assert (s.unpaid_reminder_after, s.unpaid_order_ttl, s.scheduler_interval) == (7200.0, 7 * 86400.0, 5.0)


@pytest.mark.parametrize("env", [{"SCHEDULER_INTERVAL": "0s"}, {"UNPAID_ORDER_TTL": "soon"}])
def test_bad_durations_are_refused_by_name(env):
    with pytest.raises(ConfigError, match=next(iter(env))):
        Settings.from_env(env)
