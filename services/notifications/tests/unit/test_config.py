import pytest

from tillkey.notifications.config import Settings
from tillkey.platform.config import ConfigError


def test_defaults_need_no_variable():
    s = Settings.from_env({})
    assert s == Settings()
    assert (s.database_url, s.port, s.smtp_port) == ("sqlite:///var/notifications.db", 8004, 1025)


def test_variables_are_read():
    s = Settings.from_env({"NOTIFICATIONS_DATABASE_URL": "postgresql://db/n", "NOTIFICATIONS_PORT": "9004",
                           "SMTP_HOST": "mail", "SMTP_PORT": "2525", "SMTP_FROM": "a@b.c", "AMQP_URL": "amqp://x"})
    assert (s.database_url, s.port, s.smtp_host, s.smtp_port, s.smtp_from, s.amqp_url) == (
        "postgresql://db/n", 9004, "mail", 2525, "a@b.c", "amqp://x")


def test_a_bad_port_names_the_variable():
    with pytest.raises(ConfigError, match="SMTP_PORT"):
        Settings.from_env({"SMTP_PORT": "smtp"})
