"""Domain rules: line transitions, sources, the pool alarm, web-service answers and the retry schedule."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tillkey.fulfillment.domain.license_calls import CallResult, Verdict, judge, parse_licenses, retry_delay
from tillkey.fulfillment.domain.model import Delivery, LineAlreadyDelivered
from tillkey.fulfillment.domain.sources import LicenseSource, Pool, clean_keys, wait_reason_for_pool

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def line(quantity=2):
    return Delivery("line_1", "ord_1", "prod_1", quantity, 0)


# -- lines ---------------------------------------------------------------------------------------
def test_a_delivered_line_never_changes_again():
    d = line()
    d.deliver("pool", ["A", "B"], NOW)
    assert (d.status, d.method, d.licenses, d.delivered_at) == ("delivered", "pool", ["A", "B"], NOW)
    for change in (lambda: d.deliver("manual", ["C", "D"], NOW), lambda: d.await_merchant("x"),
                   lambda: d.call_web_service(NOW)):
        with pytest.raises(LineAlreadyDelivered):
            change()
    assert d.licenses == ["A", "B"]


def test_a_fallback_keeps_its_reason_through_manual_delivery_but_not_through_a_pool_refill():
    d = line()
    d.await_merchant("license pool is empty", fallback_from="pool")
    assert (d.status, d.method, d.reason, d.fallback_from) == ("awaiting_merchant", "manual",
                                                               "license pool is empty", "pool")
    d.deliver("pool", ["A", "B"], NOW)
    assert (d.method, d.reason, d.fallback_from) == ("pool", None, None)
    by_hand = line()
    by_hand.await_merchant("license web service answered 404", fallback_from="web_service")
    by_hand.deliver("manual", ["X", "Y"], NOW)
    assert (by_hand.method, by_hand.reason) == ("manual", "license web service answered 404")


def test_web_service_calls_are_scheduled_on_the_line():
    d = line()
    assert d.not_started
    d.call_web_service(NOW)
    assert d.calling_web_service and (d.attempts, d.next_attempt_at) == (0, NOW)
    d.lease_expires_at = NOW
    d.retry_web_service_at(NOW.replace(minute=1), "boom" * 200)
    assert (d.attempts, d.next_attempt_at, d.lease_expires_at, len(d.last_error)) == (
        1, NOW.replace(minute=1), None, 500)
    d.deliver("web_service", ["A", "B"], NOW)
    assert d.next_attempt_at is None and not d.calling_web_service


# -- sources -------------------------------------------------------------------------------------
def test_replacing_a_source_forgets_what_the_new_method_does_not_use():
    s = LicenseSource("prod_1", "mer_1", "manual", NOW)
    s.replace("web_service", NOW, url="https://x.example/", secret="whsec_abc")
    assert (s.url, s.secret, s.text) == ("https://x.example/", "whsec_abc", None)
    s.replace("email", NOW, url="https://ignored.example/", text="hello")
    assert (s.method, s.url, s.secret, s.text) == ("email", None, None, "hello")


@pytest.mark.parametrize("method, kw", [("carrier_pigeon", {}), ("web_service", {"url": "https://x"}),
                                        ("email", {})])
def test_incomplete_sources_are_refused(method, kw):
    with pytest.raises(ValueError):
        LicenseSource("prod_1", "mer_1", "manual", NOW).replace(method, NOW, **kw)


def test_keys_are_stripped_and_deduplicated_in_order():
    assert clean_keys(["B", " A ", "B", "A", "C"]) == (["B", "A", "C"], 2)


def test_wait_reasons_say_what_is_short():
    assert wait_reason_for_pool(0, 2) == "license pool is empty"
    assert wait_reason_for_pool(1, 3) == "license pool has 1 license(s) left; the line needs 3"


# -- the low-stock alarm ---------------------------------------------------------------------------
def test_the_alarm_fires_once_per_crossing_and_an_upload_rearms_it():
    pool = Pool("prod_1", "mer_1", low_stock_threshold=3)
    assert [pool.after_claim(n) for n in (5, 3, 2, 1, 0)] == [False, False, True, False, False]
    pool.after_upload(2)  # still below: stays quiet
    assert pool.after_claim(1) is False
    pool.after_upload(3)  # back at the threshold: watching again
    assert [pool.after_claim(n) for n in (3, 2)] == [False, True]


def test_a_zero_threshold_never_fires_and_a_new_threshold_rearms():
    pool = Pool("prod_1", "mer_1", low_stock_threshold=0)
    assert pool.after_claim(0) is False
    pool.set_threshold(5)
    assert pool.after_claim(4) is True


# -- web-service answers -----------------------------------------------------------------------------
def ok(body: bytes, status=200):
    return CallResult(status=status, body=body)


def test_exactly_quantity_strings_are_delivered():
    outcome = judge(ok(b'{"licenses": [" A ", "B"]}'), 2)
    assert (outcome.verdict, outcome.licenses) == (Verdict.DELIVER, ("A", "B"))
    assert judge(ok(b'{"licenses": ["A", "B"], "extra": 1}', status=201), 2).verdict is Verdict.DELIVER


@pytest.mark.parametrize("body, says", [
    (b"<html>", "not JSON"), (b"[]", 'no "licenses"'), (b'{"licenses": "A"}', 'no "licenses"'),
    (b'{"licenses": ["A"]}', "1 license(s) for a quantity of 2"), (b'{"licenses": ["A", ""]}', "non-empty"),
    (b'{"licenses": ["A", null]}', "non-empty"), (b'{"licenses": ["A", "' + b"x" * 501 + b'"]}', "500"),
])
def test_malformed_answers_are_retried(body, says):
    outcome = judge(ok(body), 2)
    assert outcome.verdict is Verdict.RETRY and says in outcome.reason


@pytest.mark.parametrize("result, verdict", [
    (CallResult(status=500), Verdict.RETRY), (CallResult(status=503), Verdict.RETRY),
    (CallResult(status=408), Verdict.RETRY), (CallResult(status=429), Verdict.RETRY),
    (CallResult(error="timed out after 10s"), Verdict.RETRY),
    (CallResult(status=400), Verdict.GIVE_UP), (CallResult(status=401), Verdict.GIVE_UP),
    (CallResult(status=404), Verdict.GIVE_UP), (CallResult(status=302), Verdict.GIVE_UP),
    (CallResult(refused="loopback address 127.0.0.1"), Verdict.GIVE_UP),
])
def test_classification(result, verdict):
    assert judge(result, 1).verdict is verdict


def test_a_4xx_reason_quotes_the_answer():
    assert judge(CallResult(status=404, body=b"no such product\n"), 1).reason == (
        "license web service answered 404: no such product")


def test_parse_licenses_directly():
    assert parse_licenses(b'{"licenses": ["K"]}', 1) == (("K",), None)


# -- the retry schedule ----------------------------------------------------------------------------
def test_the_schedule_is_followed_then_spent():
    schedule = (10.0, 60.0, 300.0)
    assert [retry_delay(n, schedule, jitter=0.5) for n in (1, 2, 3, 4)] == [10.0, 60.0, 300.0, None]
    assert retry_delay(0, schedule, 0.5) is None


def test_jitter_stays_within_ten_percent():
    assert retry_delay(1, (100.0,), jitter=0.0) == pytest.approx(90.0)
    assert retry_delay(1, (100.0,), jitter=0.999999) == pytest.approx(110.0, abs=0.01)
