import pytest

from tillkey.notifications.config import Settings
from tillkey.platform.config import ConfigError


def test_defaults_need_no_variable():
    s = Settings.from_env({})
    assert s == Settings()
    assert (s.database_url, s.port, s.smtp_port, s.smtp_starttls, s.smtp_user) == (
        "sqlite:///var/notifications.db", 8004, 1025, False, "")
    assert s.retry_schedule[0] == 10 and s.give_up_after == 5 * 86400


def test_variables_are_read():
    s = Settings.from_env({"NOTIFICATIONS_DATABASE_URL": "postgresql://db/n", "NOTIFICATIONS_PORT": "9004",
                           "SMTP_HOST": "mail", "SMTP_PORT": "2525", "SMTP_FROM": "a@b.c", "AMQP_URL": "amqp://x",
                           "SMTP_STARTTLS": "true", "SMTP_USER": "u", "SMTP_PASSWORD": "p", "SMTP_TIMEOUT": "5s",
                           "SMTP_RETRY_SCHEDULE": "1s,2m", "SMTP_GIVE_UP_AFTER": "2d",
                           "PAYMENTS_PUBLIC_URL": "https://pay.example"})
    assert (s.database_url, s.port, s.smtp_host, s.smtp_port, s.smtp_from, s.amqp_url) == (
        "postgresql://db/n", 9004, "mail", 2525, "a@b.c", "amqp://x")
    assert (s.smtp_starttls, s.smtp_user, s.smtp_password, s.smtp_timeout) == (True, "u", "p", 5.0)
    assert (s.retry_schedule, s.give_up_after, s.payments_public_url) == ((1.0, 120.0), 172800.0,
                                                                         "https://pay.example")


def test_the_password_never_shows_in_a_repr():
    assert "hunter2" not in repr(Settings(smtp_password="hunter2"))


@pytest.mark.parametrize(("name", "value"), [("SMTP_PORT", "smtp"), ("SMTP_STARTTLS", "maybe"),
                                             ("SMTP_RETRY_SCHEDULE", "soon"), ("SMTP_GIVE_UP_AFTER", "x")])
def test_a_bad_value_names_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})
