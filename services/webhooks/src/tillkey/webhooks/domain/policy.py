"""What an attempt's answer means: success, retry (when), or give up — and when an endpoint is disabled.

Classification, and why:
- 2xx is the only success. A 3xx is a failure too: following a redirect would send the signed
  payload to a URL nobody checked (and could walk around the address guard).
- 410 Gone is the receiver saying "this endpoint no longer exists": retrying would only hammer it,
  so the endpoint is disabled at once.
- Everything else (4xx, 5xx, timeouts, refused connections, refused addresses) is retried on the
  schedule: a receiver's 400 is as often a bug being fixed as a permanent refusal.
- 429 and 503 may carry Retry-After; we wait at least that long (capped, so a receiver cannot
  park a delivery for a year), but never less than the schedule says.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from tillkey.webhooks.domain.model import Attempt, Delivery, Endpoint

JITTER = 0.1                                  # ±10 %: retries of a burst do not arrive in lockstep
MAX_RETRY_AFTER = timedelta(hours=24).total_seconds()
DISABLE_AFTER_FAILING = timedelta(days=5)
GONE_REASON = "the endpoint answered 410 Gone"
FAILING_REASON = "every delivery failed for 5 days"


class Verdict(enum.Enum):
    SUCCESS = "success"
    RETRY = "retry"
    GONE = "gone"


@dataclass(frozen=True)
class SendResult:
    """What one HTTP attempt produced (status None: no response — timeout, refused, …)."""

    duration_ms: int
    status: int | None = None
    error: str | None = None
    excerpt: str | None = None
    retry_after: str | None = None


def classify(result: SendResult) -> Verdict:
    if result.error is None and result.status is not None and 200 <= result.status < 300:
        return Verdict.SUCCESS
    if result.status == 410:
        return Verdict.GONE
    return Verdict.RETRY


def retry_after_seconds(result: SendResult, now: datetime) -> float | None:
    """The receiver's Retry-After (delta seconds or HTTP-date) on 429/503, capped; else None."""
    if result.status not in (429, 503) or not result.retry_after:
        return None
    raw = result.retry_after.strip()
    if raw.isdigit():
        seconds = float(raw)
    else:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None or when.tzinfo is None:
            return None
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def next_attempt_time(attempts_made: int, schedule: tuple[float, ...], now: datetime,
                      retry_after: float | None, jitter: float) -> datetime | None:
    """When to try again after `attempts_made` scheduled attempts; None once the schedule is spent.

    `jitter` is a number in [0, 1) from the caller (random in production, fixed in tests).
    """
    if attempts_made < 1 or attempts_made > len(schedule):
        return None
    delay = schedule[attempts_made - 1] * (1 + JITTER * (2 * jitter - 1))
    if retry_after is not None:
        delay = max(delay, retry_after)
    return now + timedelta(seconds=delay)


def may_change_endpoint(endpoint: Endpoint, result: SendResult) -> bool:
    """Whether `settle` with this result can change the endpoint. A failure can (it starts the
    failing period, or disables); a success only ends the failing period, so on an endpoint that
    is not failing it changes nothing: recording it needs no lock on the endpoint's row."""
    return classify(result) is not Verdict.SUCCESS or endpoint.failing_since is not None


def settle(delivery: Delivery, endpoint: Endpoint, attempt: Attempt, result: SendResult, now: datetime,
           schedule: tuple[float, ...], jitter: float) -> str | None:
    """Apply one attempt's result to the delivery and its endpoint.

    Returns the reason when this attempt disabled the endpoint (the caller emits the event once).
    """
    verdict = classify(result)
    manual = delivery.manual_pending
    attempt.manual = manual
    delivery.attempts.append(attempt)
    delivery.last_attempt_at = now
    delivery.lease_expires_at = None
    delivery.manual_pending = False
    if not manual:
        delivery.scheduled_attempts += 1
    resume_at, delivery.resume_at = delivery.resume_at, None
    disabled: str | None = None

    if verdict is Verdict.SUCCESS:
        endpoint.failing_since = None
        delivery.status, delivery.next_attempt_at = "succeeded", None
        return None
    if verdict is Verdict.GONE:
        disabled = GONE_REASON if endpoint.disable(GONE_REASON) else None
    else:
        if endpoint.failing_since is None:
            endpoint.failing_since = now
        elif now - endpoint.failing_since >= DISABLE_AFTER_FAILING and endpoint.disable(FAILING_REASON):
            disabled = FAILING_REASON

    if not endpoint.enabled or verdict is Verdict.GONE:
        delivery.status, delivery.next_attempt_at = "failed", None
    elif manual:
        # A redelivery is one extra attempt: afterwards the schedule resumes where it stood, if it had not ended.
        delivery.status = "pending" if resume_at is not None else "failed"
        delivery.next_attempt_at = resume_at
    else:
        when = next_attempt_time(delivery.scheduled_attempts, schedule, now,
                                 retry_after_seconds(result, now), jitter)
        delivery.status = "pending" if when is not None else "failed"
        delivery.next_attempt_at = when
    return disabled
