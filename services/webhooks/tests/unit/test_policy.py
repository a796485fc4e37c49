"""Retry classification, next attempt time, Retry-After, disabling — pure, with a fixed clock."""
from datetime import UTC, datetime, timedelta

import pytest

from tillkey.webhooks.domain import policy
from tillkey.webhooks.domain.model import Attempt, Delivery, Endpoint
from tillkey.webhooks.domain.policy import SendResult, Verdict

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
SCHEDULE = (5.0, 300.0, 1800.0)


def endpoint(**kw) -> Endpoint:
    return Endpoint("ep_1", "mer_1", "https://m.example/h", ["*"], "whsec_x", NOW, **kw)


def delivery(**kw) -> Delivery:
    kw.setdefault("next_attempt_at", NOW)
    return Delivery("whd_1", "ep_1", "mer_1", "evt_1", "order.created", NOW, **kw)


def attempt() -> Attempt:
    return Attempt("wha_1", "whd_1", NOW, 12)


@pytest.mark.parametrize("result, verdict", [
    (SendResult(5, status=200), Verdict.SUCCESS),
    (SendResult(5, status=204), Verdict.SUCCESS),
    (SendResult(5, status=299), Verdict.SUCCESS),
    (SendResult(5, status=301, error="redirect not followed"), Verdict.RETRY),
    (SendResult(5, status=302), Verdict.RETRY),
    (SendResult(5, status=400), Verdict.RETRY),
    (SendResult(5, status=404), Verdict.RETRY),
    (SendResult(5, status=410), Verdict.GONE),
    (SendResult(5, status=429), Verdict.RETRY),
    (SendResult(5, status=500), Verdict.RETRY),
    (SendResult(5, error="timed out"), Verdict.RETRY),
    (SendResult(5, status=200, error="answered too late"), Verdict.RETRY),
])
def test_classify(result, verdict):
    assert policy.classify(result) is verdict


def test_retry_after_seconds_only_on_429_and_503():
    assert policy.retry_after_seconds(SendResult(1, status=429, retry_after="120"), NOW) == 120
    assert policy.retry_after_seconds(SendResult(1, status=503, retry_after=" 7 "), NOW) == 7
    assert policy.retry_after_seconds(SendResult(1, status=500, retry_after="120"), NOW) is None
    assert policy.retry_after_seconds(SendResult(1, status=429), NOW) is None


def test_retry_after_http_date_past_garbage_and_cap():
    date = "Thu, 01 Jan 2026 12:10:00 GMT"
    assert policy.retry_after_seconds(SendResult(1, status=429, retry_after=date), NOW) == 600
    assert policy.retry_after_seconds(SendResult(1, status=429, retry_after="Wed, 31 Dec 2025 00:00:00 GMT"),
                                      NOW) == 0
    assert policy.retry_after_seconds(SendResult(1, status=429, retry_after="soon"), NOW) is None
    assert policy.retry_after_seconds(SendResult(1, status=429, retry_after="99999999"), NOW) == policy.MAX_RETRY_AFTER


def test_next_attempt_time_follows_schedule_with_bounded_jitter():
    assert policy.next_attempt_time(1, SCHEDULE, NOW, None, 0.5) == NOW + timedelta(seconds=5)
    assert policy.next_attempt_time(2, SCHEDULE, NOW, None, 0.5) == NOW + timedelta(seconds=300)
    assert policy.next_attempt_time(3, SCHEDULE, NOW, None, 0.0) == NOW + timedelta(seconds=1620)
    assert policy.next_attempt_time(3, SCHEDULE, NOW, None, 0.9999) < NOW + timedelta(seconds=1980)
    assert policy.next_attempt_time(4, SCHEDULE, NOW, None, 0.5) is None


def test_retry_after_is_a_floor_never_a_shortcut():
    assert policy.next_attempt_time(1, SCHEDULE, NOW, 60, 0.5) == NOW + timedelta(seconds=60)
    assert policy.next_attempt_time(2, SCHEDULE, NOW, 60, 0.5) == NOW + timedelta(seconds=300)


def test_failures_follow_the_schedule_then_fail():
    d, e = delivery(), endpoint()
    for n, delay in enumerate(SCHEDULE, start=1):
        assert policy.settle(d, e, attempt(), SendResult(3, status=500), NOW, SCHEDULE, 0.5) is None
        assert (d.status, d.scheduled_attempts, d.next_attempt_at) == ("pending", n, NOW + timedelta(seconds=delay))
    policy.settle(d, e, attempt(), SendResult(3, status=500), NOW, SCHEDULE, 0.5)
    assert (d.status, d.next_attempt_at, d.scheduled_attempts) == ("failed", None, 4)
    assert len(d.attempts) == 4 and e.enabled


def test_success_settles_and_clears_the_failing_streak():
    d, e = delivery(), endpoint(failing_since=NOW - timedelta(days=2))
    policy.settle(d, e, attempt(), SendResult(3, status=200), NOW, SCHEDULE, 0.5)
    assert (d.status, d.next_attempt_at, e.failing_since) == ("succeeded", None, None)


def test_429_with_retry_after_waits_that_long():
    d, e = delivery(), endpoint()
    policy.settle(d, e, attempt(), SendResult(3, status=429, retry_after="3600"), NOW, SCHEDULE, 0.5)
    assert d.status == "pending" and d.next_attempt_at == NOW + timedelta(hours=1)


def test_410_disables_the_endpoint_at_once():
    d, e = delivery(), endpoint()
    reason = policy.settle(d, e, attempt(), SendResult(3, status=410), NOW, SCHEDULE, 0.5)
    assert reason == policy.GONE_REASON
    assert not e.enabled and e.disabled_reason == policy.GONE_REASON
    assert d.status == "failed"


def test_failing_for_five_days_disables_once():
    e = endpoint()
    policy.settle(delivery(), e, attempt(), SendResult(3, status=500), NOW, SCHEDULE, 0.5)
    assert e.failing_since == NOW and e.enabled
    later = NOW + timedelta(days=5) - timedelta(seconds=1)
    assert policy.settle(delivery(), e, attempt(), SendResult(3, error="timed out"), later, SCHEDULE, 0.5) is None
    assert e.enabled
    d = delivery()
    five_days = NOW + timedelta(days=5)
    assert policy.settle(d, e, attempt(), SendResult(3, status=502), five_days, SCHEDULE, 0.5) == policy.FAILING_REASON
    assert not e.enabled and d.status == "failed"
    # Already disabled: a straggler's failure does not report (and emit) it again.
    assert policy.settle(delivery(), e, attempt(), SendResult(3, status=502), five_days, SCHEDULE, 0.5) is None


def test_a_success_in_between_restarts_the_five_days():
    e = endpoint()
    policy.settle(delivery(), e, attempt(), SendResult(3, status=500), NOW, SCHEDULE, 0.5)
    policy.settle(delivery(), e, attempt(), SendResult(3, status=200), NOW + timedelta(days=3), SCHEDULE, 0.5)
    policy.settle(delivery(), e, attempt(), SendResult(3, status=500), NOW + timedelta(days=4), SCHEDULE, 0.5)
    policy.settle(delivery(), e, attempt(), SendResult(3, status=500), NOW + timedelta(days=6), SCHEDULE, 0.5)
    assert e.enabled and e.failing_since == NOW + timedelta(days=4)


def test_redelivery_of_a_failed_delivery_is_one_attempt():
    d, e = delivery(status="failed", next_attempt_at=None, scheduled_attempts=4), endpoint()
    d.request_redelivery(NOW)
    assert (d.status, d.next_attempt_at, d.manual_pending) == ("pending", NOW, True)
    policy.settle(d, e, attempt(), SendResult(3, status=500), NOW, SCHEDULE, 0.5)
    assert (d.status, d.next_attempt_at, d.scheduled_attempts) == ("failed", None, 4)
    assert d.attempts[-1].manual


def test_redelivery_mid_schedule_resumes_the_schedule_on_failure():
    planned = NOW + timedelta(minutes=5)
    d, e = delivery(next_attempt_at=planned, scheduled_attempts=2), endpoint()
    d.request_redelivery(NOW)
    policy.settle(d, e, attempt(), SendResult(3, status=500), NOW, SCHEDULE, 0.5)
    assert (d.status, d.next_attempt_at, d.scheduled_attempts) == ("pending", planned, 2)


def test_redelivery_success_and_refusals():
    from tillkey.contracts.errors import Conflict

    d, e = delivery(status="failed", next_attempt_at=None), endpoint()
    d.request_redelivery(NOW)
    with pytest.raises(Conflict):
        d.request_redelivery(NOW)
    policy.settle(d, e, attempt(), SendResult(3, status=200), NOW, SCHEDULE, 0.5)
    assert d.status == "succeeded"
    busy = delivery(lease_expires_at=NOW + timedelta(seconds=30))
    with pytest.raises(Conflict):
        busy.request_redelivery(NOW)
