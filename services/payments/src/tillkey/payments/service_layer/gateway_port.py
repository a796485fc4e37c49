"""The port payments uses to take card payments: `CardGateway`, its results and its errors.

Card data never reaches payments: the customer's browser exchanges it with the gateway for a
single-use `payment_token`, and payments only ever handles that token. A charge or refund is
*accepted* synchronously (`pending`) and *decided* later: the gateway posts a signed
notification, which the notification endpoint hands to `parse_notification`.

Retry classification (why two error types):
- `TransientGatewayError` — 5xx, 429, timeouts, connection errors. The gateway may or may not
  have taken the request; retrying is safe because every call carries an idempotency key derived
  from *our* id (payment id, refund id), so a retry can never charge twice. Adapters retry a few
  times themselves; if it still fails, the caller keeps the attempt pending and retries later
  (with the same id) or reports it.
- `GatewayRejected` — any other 4xx: the request itself is wrong (used token, bad amount,
  over-refund). Retrying cannot help; the attempt fails with the gateway's `code`.
- `InvalidNotification` — a callback whose signature, timestamp or shape is wrong. Answer it 4xx
  and change nothing: a genuine gateway signs correctly and will retry.

Adding a second gateway adapter
-------------------------------
1. Write `adapters/<name>_gateway.py` with a class that satisfies `CardGateway` (structural
   typing: no base class to inherit). Set `name` to the path segment of its callback URL,
   `/v1/gateways/<name>/notifications`.
2. Map the provider's API onto the three calls. Use `payment_id` / `refund_id` to build the
   provider's idempotency key (Stripe `Idempotency-Key`, Adyen `Idempotency-Key`, others a
   merchant reference) and send the same key on every retry, so transient failures can be
   retried blindly. Send `payment_id` as the provider's reference so notifications can be matched.
3. Classify failures as above: network errors and 5xx raise `TransientGatewayError`, 4xx
   `GatewayRejected` with the provider's decline or error code.
4. `parse_notification` verifies the provider's own signature scheme (HMAC, JWS, mTLS + basic
   auth — whatever it uses) and timestamp freshness *before* reading the body, then maps the
   provider's event names onto `charge.succeeded | charge.failed | refund.succeeded |
   refund.failed` and its ids/statuses onto `GatewayNotification`. Unknown event types raise
   `InvalidNotification` with a clear message (or are acknowledged and ignored by the caller).
5. Register it in bootstrap (one gateway per `name`), add its settings (URL, API key, signing
   secret) to config and the README, and give it an integration test against the provider's
   test mode or a recorded double, mirroring `tests/sandbox/`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

NOTIFICATION_TYPES = ("charge.succeeded", "charge.failed", "refund.succeeded", "refund.failed")


class GatewayError(Exception):
    def __init__(self, detail: str, code: str = "gateway_error"):
        super().__init__(detail)
        self.detail = detail
        self.code = code


class TransientGatewayError(GatewayError):
    """The gateway could not be reached or failed on its side: retry later with the same id."""


class GatewayRejected(GatewayError):
    """The gateway refused the request (4xx): retrying the same request cannot succeed."""

    def __init__(self, detail: str, code: str, status: int, errors: Mapping[str, list[str]] | None = None):
        super().__init__(detail, code)
        self.status = status
        self.errors = dict(errors or {})


class InvalidNotification(GatewayError):
    """A callback that is not provably from the gateway (signature, timestamp) or is malformed.

    `code` tells them apart for the HTTP answer: `invalid_signature` (401: not authenticated)
    or `invalid_notification` (400: authenticated but unreadable).
    """

    def __init__(self, detail: str, code: str = "invalid_notification"):
        super().__init__(detail, code)


@dataclass(frozen=True)
class GatewayCharge:
    charge_id: str
    status: str  # "pending" when accepted; the result comes as a notification
    amount: int
    currency: str
    reference: str


@dataclass(frozen=True)
class GatewayRefund:
    refund_id: str
    charge_id: str
    status: str
    amount: int
    currency: str
    reference: str
    failure_code: str | None = None


@dataclass(frozen=True)
class GatewayChargeState:
    """A charge as the gateway sees it now (reconciliation)."""

    charge_id: str
    status: str
    amount: int
    currency: str
    reference: str
    amount_refunded: int
    failure_code: str | None
    failure_message: str | None
    refunds: tuple[GatewayRefund, ...]


@dataclass(frozen=True)
class GatewayNotification:
    notification_id: str  # the same on every redelivery: de-duplicate on it
    type: str  # one of NOTIFICATION_TYPES
    created_at: str
    charge_id: str
    reference: str  # our payment id (charge events) or our refund id (refund events)
    amount: int
    currency: str
    status: str
    failure_code: str | None = None
    failure_message: str | None = None
    refund_id: str | None = None

    @property
    def is_refund(self) -> bool:
        return self.type.startswith("refund.")

    @property
    def succeeded(self) -> bool:
        return self.type.endswith(".succeeded")


class CardGateway(Protocol):
    name: str

    def charge(self, payment_id: str, payment_token: str, amount: int, currency: str,
               notification_url: str) -> GatewayCharge:
        """Accept a charge (idempotent per `payment_id`). Raises TransientGatewayError or GatewayRejected."""
        ...

    def refund(self, refund_id: str, charge_id: str, amount: int, notification_url: str) -> GatewayRefund:
        """Accept a refund of (part of) a charge (idempotent per `refund_id`)."""
        ...

    def get_charge(self, charge_id: str) -> GatewayChargeState:
        """The charge and its refunds as the gateway has them (for reconciliation)."""
        ...

    def parse_notification(self, headers: Mapping[str, str], body: bytes | str) -> GatewayNotification:
        """Verify signature and timestamp freshness, then parse. Raises InvalidNotification."""
        ...
