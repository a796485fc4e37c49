"""The sandbox's pure parts: cards, request validation, settings, retry schedule."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tillkey.payments.sandbox import cards, validation
from tillkey.payments.sandbox.settings import DEFAULT_SECRET, SandboxSettings, sqlite_path
from tillkey.payments.sandbox.validation import GatewayProblem
from tillkey.payments.sandbox.worker import retry_delay
from tillkey.platform.config import ConfigError

TODAY = dt.date(2026, 11, 27)


@pytest.mark.parametrize("number, ok", [
    ("4242424242424242", True), ("4000000000000002", True), ("4000000000009995", True),
    ("4000000000000119", True), ("4000000000005126", True), ("5555555555554444", True), ("378282246310005", True),
    ("4242424242424241", False), ("0000000000000001", False), ("79927398713", False), ("", False),
    ("4242x24242424242", False), ("٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢", False),
])
def test_valid_number(number, ok):
    assert cards.valid_number(number) is ok


def test_luhn_on_its_classic_example():
    assert cards.luhn_valid("79927398713") and not cards.luhn_valid("79927398710")


@pytest.mark.parametrize("number, brand", [
    ("4242424242424242", "visa"), ("5555555555554444", "mastercard"), ("2223003122003222", "mastercard"),
    ("378282246310005", "amex"), ("6011111111111117", "discover"), ("3566002020360505", "jcb"),
    ("36227206271667", "diners"), ("9999999999999995", "unknown"),
])
def test_brand(number, brand):
    assert cards.brand_of(number) == brand


def test_each_test_card_has_its_behaviour():
    assert cards.behaviour_for("4242424242424242").charge_status == "succeeded"
    declined = cards.behaviour_for("4000000000000002")
    assert (declined.charge_status, declined.failure_code) == ("failed", "card_declined")
    assert cards.behaviour_for("4000000000009995").failure_code == "insufficient_funds"
    flaky = cards.behaviour_for("4000000000000119")
    assert (flaky.unavailable_tries, flaky.charge_status) == (2, "succeeded")
    assert cards.behaviour_for("4000000000005126").refund_fails
    assert cards.behaviour_for("5555555555554444") == cards.SUCCEED


@pytest.mark.parametrize("month, year, is_expired", [
    (11, 2026, False), (12, 2026, False), (10, 2026, True), (1, 2027, False), (12, 2025, True), (11, 26, False),
    (10, 26, True),
])
def test_expiry_is_through_the_end_of_the_month(month, year, is_expired):
    assert cards.expired(month, year, TODAY) is is_expired


def _card(**over):
    return {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123", **over}


def test_card_validation_cleans_values():
    assert validation.card(_card(number="4242-4242 4242-4242", exp_month="03", exp_year=31), TODAY) == (
        "4242424242424242", 3, 2031, "123")


def test_card_validation_collects_every_bad_field_and_never_echoes_the_number():
    with pytest.raises(GatewayProblem) as err:
        validation.card({"number": "4242424242424241", "exp_month": True, "exp_year": 1999, "cvc": "1"}, TODAY)
    assert err.value.status == 422
    assert set(err.value.errors) == {"number", "exp_month", "exp_year", "cvc"}
    assert "4242424242424241" not in repr(err.value.errors) + err.value.detail


def _charge(**over):
    return {"payment_token": "tok_1", "amount": 100, "currency": "usd", "reference": "pay_1",
            "notification_url": "https://payments.example/v1/gateways/sandbox/notifications", **over}


def test_charge_validation():
    assert validation.charge(_charge())["currency"] == "USD"
    assert validation.charge(_charge())["metadata"] == {}
    for bad, field in [({"amount": 0}, "amount"), ({"amount": 1.5}, "amount"), ({"amount": True}, "amount"),
                       ({"currency": "EU"}, "currency"), ({"currency": "E1R"}, "currency"),
                       ({"notification_url": "javascript:alert(1)"}, "notification_url"),
                       ({"metadata": {"a": 1}}, "metadata"), ({"metadata": []}, "metadata"),
                       ({"reference": "x" * 256}, "reference"), ({"payment_token": None}, "payment_token")]:
        with pytest.raises(GatewayProblem) as err:
            validation.charge(_charge(**bad))
        assert list(err.value.errors) == [field], bad


def test_refund_validation():
    body = {"charge_id": "ch_1", "amount": 5, "reference": "re_1", "notification_url": "http://127.0.0.1:8002/n"}
    assert validation.refund(body) == body
    with pytest.raises(GatewayProblem) as err:
        validation.refund({**body, "amount": -1})
    assert list(err.value.errors) == ["amount"]


def test_idempotency_key():
    assert validation.idempotency_key("k") == "k"
    for bad in (None, "", "k" * 256):
        with pytest.raises(GatewayProblem) as err:
            validation.idempotency_key(bad)
        assert err.value.status == 400


def test_settings_defaults_and_environment():
    d = SandboxSettings.from_env({})
    assert (d.port, d.database_path, d.secret, d.give_up_after) == (8009, Path("var/sandbox.db"), DEFAULT_SECRET,
                                                                    86400)
    assert DEFAULT_SECRET == "whsec_c2FuZGJveC1nYXRld2F5LWRldi1zZWNyZXQtMDAwMDAw"
    assert 0.1 <= d.settle_delay <= 0.3
    s = SandboxSettings.from_env({"SANDBOX_PORT": "9100", "SANDBOX_DATABASE_URL": "sqlite:////tmp/x/s.db",
                                  "SANDBOX_SETTLE_DELAY": "250ms", "SANDBOX_NOTIFY_RETRY_SCHEDULE": "1s,1m"})
    assert (s.port, s.database_path, s.settle_delay, s.retry_schedule) == (9100, Path("/tmp/x/s.db"), 0.25,
                                                                           (1.0, 60.0))


def test_only_sqlite_file_urls_are_accepted():
    assert sqlite_path("sqlite:///var/sandbox.db") == Path("var/sandbox.db")
    for bad in ("postgresql://x/y", "sqlite:///", "sqlite://"):
        with pytest.raises(ConfigError):
            sqlite_path(bad)


def test_retry_delay_repeats_the_last_interval():
    assert [retry_delay((1, 5, 30), n) for n in range(1, 6)] == [1, 5, 30, 30, 30]


def test_the_sandbox_imports_nothing_from_the_rest_of_payments():
    """It stands in for an external provider: payments reaches it over HTTP only."""
    import ast

    package = Path(cards.__file__).parent
    # platform.web: the shared look of its one HTML page (`/`, the test cards); platform.rate_limits:
    # the same abuse limits as every API (token creation, issue 18); platform.outbound and urls: the
    # notifier's kept connections, as webhooks' and fulfillment's to merchants.
    allowed = ("tillkey.payments.sandbox", "tillkey.contracts.signing", "tillkey.platform.config",
               "tillkey.platform.web", "tillkey.platform.formatting", "tillkey.platform.rate_limits",
               "tillkey.platform.outbound", "tillkey.platform.urls")
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                if name.startswith("tillkey"):
                    assert name.startswith(allowed) or name == "tillkey.contracts", f"{source.name} imports {name}"
