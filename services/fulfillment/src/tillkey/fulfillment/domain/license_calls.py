"""What a license web service's answer means, and when to call it again.

Classification, and why (docs/integration.md, "License web service"):
- 2xx with `{"licenses": [...]}` holding exactly `quantity` non-empty strings: success.
- 2xx with anything else (not JSON, wrong count, not strings): a bug on the merchant's side that
  a deploy fixes, so it is retried like a 5xx — never delivered half-right.
- 5xx, timeouts, refused connections: transient, retried on the schedule.
- 408 and 429 are 4xx by number but say "later" by meaning: retried like a 5xx.
- Any other 4xx is the merchant's service refusing this line: no retry, the merchant delivers by hand.
- 3xx: we never follow redirects (the signed body would go to a URL nobody checked, possibly past
  the address guard), and repeating the call cannot change the answer: no retry either.
- An address the SSRF guard refuses at connection time: the URL now leads somewhere we never
  call; no retry.
When the schedule is spent the line falls back to `manual` with the last error as its reason.
"""
from __future__ import annotations

import enum
import json
from dataclasses import dataclass

from tillkey.fulfillment.domain.sources import MAX_KEY_LENGTH

RETRIED_4XX = (408, 429)
JITTER = 0.1  # ±10 %: the calls of a burst of orders do not hit the merchant in lockstep


class Verdict(enum.Enum):
    DELIVER = "deliver"
    RETRY = "retry"
    GIVE_UP = "give_up"


@dataclass(frozen=True)
class CallResult:
    """What one HTTP call produced (status None: no answer — timeout, refused, …)."""

    status: int | None = None
    body: bytes = b""
    error: str | None = None       # transport error: timeout, connection failed
    refused: str | None = None     # the address guard refused the destination


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    licenses: tuple[str, ...] = ()
    reason: str = ""


def judge(result: CallResult, quantity: int) -> Outcome:
    if result.refused:
        return Outcome(Verdict.GIVE_UP, reason=f"license web service refused: {result.refused}")
    if result.status is None:
        return Outcome(Verdict.RETRY, reason=f"license web service: {result.error or 'no answer'}")
    if 200 <= result.status < 300:
        licenses, problem = parse_licenses(result.body, quantity)
        if problem:
            return Outcome(Verdict.RETRY, reason=f"license web service answered {result.status} with {problem}")
        return Outcome(Verdict.DELIVER, licenses=licenses)
    if result.status >= 500 or result.status in RETRIED_4XX:
        return Outcome(Verdict.RETRY, reason=f"license web service answered {result.status}")
    if 300 <= result.status < 400:
        return Outcome(Verdict.GIVE_UP,
                       reason=f"license web service answered {result.status} (redirects are not followed)")
    return Outcome(Verdict.GIVE_UP, reason=f"license web service answered {result.status}{_excerpt(result.body)}")


def parse_licenses(body: bytes, quantity: int) -> tuple[tuple[str, ...], str | None]:
    """(licenses, None) or ((), what is wrong with the body)."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return (), "a body that is not JSON"
    licenses = payload.get("licenses") if isinstance(payload, dict) else None
    if not isinstance(licenses, list):
        return (), 'no "licenses" list'
    if not all(isinstance(k, str) and k.strip() and len(k.strip()) <= MAX_KEY_LENGTH for k in licenses):
        return (), f"licenses that are not non-empty strings of at most {MAX_KEY_LENGTH} characters"
    if len(licenses) != quantity:
        return (), f"{len(licenses)} license(s) for a quantity of {quantity}"
    return tuple(k.strip() for k in licenses), None


def retry_delay(failed_attempts: int, schedule: tuple[float, ...], jitter: float) -> float | None:
    """Seconds until the next call after `failed_attempts` failures; None once the schedule is spent.

    `jitter` is a number in [0, 1) from the caller (random in production, fixed in tests).
    """
    if failed_attempts < 1 or failed_attempts > len(schedule):
        return None
    return schedule[failed_attempts - 1] * (1 + JITTER * (2 * jitter - 1))


def _excerpt(body: bytes) -> str:
    text = body[:200].decode("utf-8", errors="replace").strip()
    return f": {text}" if text else ""
