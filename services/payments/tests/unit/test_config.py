import pytest

from tillkey.payments.config import Settings
from tillkey.platform.config import ConfigError


def test_defaults_need_no_variable():
    s = Settings.from_env({})
    assert s == Settings()
    assert (s.database_url, s.port, s.sandbox_gateway_url) == ("sqlite:///var/payments.db", 8002, "http://127.0.0.1:8009")
    assert s.sandbox_gateway_secret.startswith("whsec_")
    assert s.bank_transfer_due == 14 * 86400


def test_every_variable_is_read():
    env = {"PAYMENTS_DATABASE_URL": "postgresql://db/p", "AMQP_URL": "amqp://x", "PAYMENTS_PORT": "9002",
           "ADMIN_TOKEN": "a", "PLATFORM_SECRET": "s", "PAYMENTS_PUBLIC_URL": "https://pay", "ORDERS_PUBLIC_URL": "https://o",
           "SANDBOX_GATEWAY_URL": "http://gw", "SANDBOX_PUBLIC_URL": "https://gw", "SANDBOX_GATEWAY_SECRET": "whsec_x",
           "BANK_ACCOUNT_HOLDER": "H", "BANK_NAME": "N", "BANK_IBAN": "I", "BANK_BIC": "B", "BANK_TRANSFER_DUE": "7d"}
    s = Settings.from_env(env)
    assert (s.database_url, s.amqp_url, s.port, s.admin_token, s.platform_secret) == (
        "postgresql://db/p", "amqp://x", 9002, "a", "s")
    assert (s.payments_public_url, s.orders_public_url) == ("https://pay", "https://o")
    assert (s.sandbox_gateway_url, s.sandbox_public_url, s.sandbox_gateway_secret) == (
        "http://gw", "https://gw", "whsec_x")
    assert (s.bank_account_holder, s.bank_name, s.bank_iban, s.bank_bic, s.bank_transfer_due) == (
        "H", "N", "I", "B", 7 * 86400)


@pytest.mark.parametrize("env", [{"PAYMENTS_PORT": "eighty"}, {"BANK_TRANSFER_DUE": "two weeks"}])
def test_bad_values_name_the_variable(env):
    with pytest.raises(ConfigError, match=next(iter(env))):
        Settings.from_env(env)


def test_the_default_sandbox_secret_is_the_sandbox_processs_own():
    # Two different development defaults made every notification fail its signature under `make run`.
    from tillkey.payments.sandbox.settings import SandboxSettings

    assert Settings().sandbox_gateway_secret == SandboxSettings.from_env({}).secret


def test_gateway_timing_variables():
    s = Settings.from_env({"SCHEDULER_INTERVAL": "5s", "PAYMENTS_GATEWAY_RESUBMIT_AFTER": "1m",
                           "PAYMENTS_GATEWAY_GIVE_UP_AFTER": "2h"})
    assert (s.scheduler_interval, s.resubmit_after, s.give_up_after) == (5, 60, 7200)
    assert Settings().scheduler_interval == 30
