import pytest

from tillkey.platform.config import ConfigError
from tillkey.webhooks.config import Settings


def test_defaults():
    s = Settings.from_env({})
    assert s.database_url == "sqlite:///var/webhooks.db" and s.port == 8005
    assert s.retry_schedule == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert s.timeout == 10 and s.allow_private_urls is False


def test_overrides():
    s = Settings.from_env({"WEBHOOK_RETRY_SCHEDULE": "200ms,1s", "WEBHOOK_TIMEOUT": "2s", "ALLOW_PRIVATE_URLS": "true",
                           "WEBHOOKS_PORT": "9005", "WEBHOOKS_DATABASE_URL": "postgresql://x/y"})
    assert s.retry_schedule == (0.2, 1.0) and s.timeout == 2 and s.allow_private_urls and s.port == 9005
    assert s.database_url == "postgresql://x/y"


@pytest.mark.parametrize("env", [{"WEBHOOK_TIMEOUT": "0s"}, {"WEBHOOK_TIMEOUT": "soon"},
                                 {"WEBHOOK_RETRY_SCHEDULE": "5s,later"}, {"ALLOW_PRIVATE_URLS": "maybe"}])
def test_bad_values_name_the_variable(env):
    with pytest.raises(ConfigError, match=next(iter(env))):
        Settings.from_env(env)
