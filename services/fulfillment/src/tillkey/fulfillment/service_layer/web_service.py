"""Calling merchants' license web services: claim due calls, record what each call produced.

The HTTP call happens between the two, outside any transaction: a merchant's service that takes
10 s must not hold a database connection, a row lock or (on SQLite) the one write lock for 10 s.
The lease set at claim time keeps other workers off a line while it is being called; if this
process dies mid-call the lease runs out and the line is called again — at least once, with the
same `webhook-id` (the line id), so the merchant can answer a repeat with the same licenses.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from tillkey.contracts import signing
from tillkey.fulfillment.domain.license_calls import CallResult, Verdict, judge, retry_delay
from tillkey.fulfillment.domain.model import Delivery, Order
from tillkey.fulfillment.service_layer.fulfilling import ask_merchant, emit_delivered, start_line
from tillkey.fulfillment.service_layer.ports import Deps, UnitOfWork
from tillkey.platform.clock import seconds_until

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Call:
    """Everything one call needs, snapshotted at claim time (no database access while calling)."""

    line_id: str
    url: str
    secret: str
    body: str

    def headers(self, now: datetime) -> dict[str, str]:
        return signing.headers([self.secret], self.line_id, int(now.timestamp()), self.body)


def request_body(order: Order, line: Delivery) -> str:
    """Exactly the body in docs/integration.md, "License web service"."""
    return json.dumps({"order_id": order.order_id, "line_id": line.line_id, "product_id": line.product_id,
                       "quantity": line.quantity, "customer": order.customer}, separators=(",", ":"))


def _order_of(uow: UnitOfWork, line: Delivery) -> Order:
    order = uow.orders.get(line.order_id)
    if order is None:  # a line's order is never deleted (its row stays for accounting)
        raise RuntimeError(f"line {line.line_id} without its order {line.order_id}")
    return order


@dataclass(frozen=True)
class ClaimDueCalls:
    limit: int
    lease: timedelta


def claim_due(cmd: ClaimDueCalls, uow: UnitOfWork, deps: Deps) -> list[Call]:
    now = deps.clock.now()
    calls: list[Call] = []
    for line in uow.orders.due_web_service_lines(now, cmd.limit):
        order = _order_of(uow, line)
        source = uow.sources.get(line.product_id)
        if source is None or source.method != "web_service":
            # The merchant changed the product's source since: the line follows the current one.
            start_line(uow, deps, order, line, now)
            continue
        line.lease_expires_at = now + cmd.lease
        # A web_service source always has both (LicenseSource.replace refuses one without).
        calls.append(Call(line.line_id, source.url or "", source.secret or "", request_body(order, line)))
    uow.commit()
    return calls


@dataclass(frozen=True)
class SecondsUntilDue:
    """How long the worker may sleep: until the earliest pending call falls due (None: none is)."""


def seconds_until_due(cmd: SecondsUntilDue, uow: UnitOfWork, deps: Deps) -> float | None:
    return seconds_until(uow.orders.next_web_service_call_at(), deps.clock.now())


@dataclass(frozen=True)
class RecordCall:
    """What one call produced: deliver, schedule the next call, or hand the line to the merchant."""

    call: Call
    result: CallResult
    schedule: tuple[float, ...]
    jitter: float


def record(cmd: RecordCall, uow: UnitOfWork, deps: Deps) -> None:
    """One transaction."""
    call, result = cmd.call, cmd.result
    line = uow.orders.line(call.line_id, lock=True)
    if line is None or not line.calling_web_service:
        # Delivered by hand (or re-routed) while we were calling: the customer has what they need.
        log.info("license call for %s answered after the line was settled; answer dropped", call.line_id)
        return
    order = _order_of(uow, line)
    now = deps.clock.now()
    outcome = judge(result, line.quantity)
    delay = retry_delay(line.attempts + 1, cmd.schedule, cmd.jitter) if outcome.verdict is Verdict.RETRY else None
    if outcome.verdict is Verdict.DELIVER:
        line.deliver("web_service", list(outcome.licenses), now)
        emit_delivered(uow, order, line)
    elif delay is not None:
        log.info("license call for %s failed (%s); next in %.1fs", line.line_id, outcome.reason, delay)
        line.retry_web_service_at(now + timedelta(seconds=delay), outcome.reason)
    else:
        attempts = line.attempts + 1
        reason = outcome.reason if outcome.verdict is Verdict.GIVE_UP else (
            f"{outcome.reason}; gave up after {attempts} attempts")
        log.warning("license call for %s: falling back to manual delivery (%s)", line.line_id, reason)
        line.attempts = attempts
        ask_merchant(uow, order, line, reason, fallback_from="web_service")
    uow.commit()
