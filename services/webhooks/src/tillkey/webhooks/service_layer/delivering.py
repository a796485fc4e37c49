"""The delivery worker's use cases: claim due deliveries, record what an attempt produced.

Sending happens between the two, outside any transaction: a receiver that takes 10 s must not
hold a database connection or row lock for 10 s.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from tillkey.contracts import signing
from tillkey.platform import metrics
from tillkey.webhooks.domain import erasure, policy
from tillkey.webhooks.domain.model import Attempt, Delivery
from tillkey.webhooks.service_layer.ports import DeliveryToSend, Deps, UnitOfWork

log = logging.getLogger(__name__)
EXCERPT_CHARS = 1024


@dataclass(frozen=True)
class Job:
    """Everything one send needs, snapshotted at claim time (no database access while sending)."""

    delivery_id: str
    endpoint_id: str
    url: str
    event_id: str
    body: str
    secrets: tuple[str, ...]

    def headers(self, now: datetime) -> dict[str, str]:
        # webhook-id is the event id: the same on every retry and redelivery, so receivers dedupe on it.
        return signing.headers(list(self.secrets), self.event_id, int(now.timestamp()), self.body)


@dataclass(frozen=True)
class ClaimDueDeliveries:
    """Lease up to `limit` due deliveries; at most `per_endpoint` in flight for any one endpoint
    (`busy`: how many each endpoint has in flight already)."""

    limit: int
    lease: timedelta
    per_endpoint: int
    busy: Mapping[str, int]


def claim(cmd: ClaimDueDeliveries, uow: UnitOfWork, deps: Deps) -> list[Job]:
    """The cap keeps a slow endpoint with a backlog from filling every sending thread. The lease
    (not the row lock, which ends at commit) keeps other workers off a job while it is sent;
    if this process dies, the lease runs out and the job is sent again (at least once).
    """
    busy, per_endpoint = cmd.busy, cmd.per_endpoint
    now = deps.clock.now()
    full = {e for e, n in busy.items() if n >= per_endpoint}
    taken: dict[str, int] = {}
    jobs: list[Job] = []
    abandoned: list[Delivery] = []
    for delivery, body, endpoint in uow.deliveries.claim_due(now, cmd.limit, full):
        if not endpoint.enabled or endpoint.deleted_at is not None:
            delivery.abandon()
            abandoned.append(delivery)
            continue
        if busy.get(endpoint.endpoint_id, 0) + taken.get(endpoint.endpoint_id, 0) >= per_endpoint:
            continue
        taken[endpoint.endpoint_id] = taken.get(endpoint.endpoint_id, 0) + 1
        # The body as stored now: once its order is deleted, the erased one (service_layer/erasure.py).
        jobs.append(Job(delivery.delivery_id, endpoint.endpoint_id, endpoint.url, delivery.event_id,
                        body, tuple(endpoint.signing_secrets(now))))
    uow.deliveries.save_settled([], abandoned)
    uow.deliveries.lease([job.delivery_id for job in jobs], now + cmd.lease)
    uow.commit()
    return jobs


@dataclass(frozen=True)
class Finished:
    """One sent attempt waiting to be recorded."""

    job: Job
    result: policy.SendResult
    attempted_at: datetime
    jitter: float


@dataclass(frozen=True)
class RecordAttempts:
    """Store sent attempts and decide what follows each (`schedule`: the retry delays, seconds)."""

    finished: list[Finished]
    schedule: tuple[float, ...]


def record_attempts(cmd: RecordAttempts, uow: UnitOfWork, deps: Deps) -> None:
    """In one transaction for the whole list (a burst of webhooks costs a handful of statements,
    not a handful per webhook); disabling an endpoint emits its event once."""
    finished = cmd.finished
    # Locked in id order (deliveries, then endpoints), as every writer of them does: no deadlock.
    # An endpoint is locked (and read again) only when an attempt may change it: a success on
    # an endpoint that is not failing, the usual case, leaves it alone. Not locking it then is
    # safe: this transaction writes nothing to it, so one changing it meanwhile (a failure
    # elsewhere, a disable) simply comes after this one. What settling changes on the locked
    # ones is written at commit (adapters/repositories.py, Endpoints.write_changes).
    deliveries = uow.deliveries.to_settle([f.job.delivery_id for f in finished])
    endpoints = uow.endpoints.locked(_endpoints_to_lock(finished, deliveries))
    now = deps.clock.now()
    attempts: list[Attempt] = []
    settled: list[Delivery] = []
    for f in finished:
        found = deliveries.get(f.job.delivery_id)
        if found is None:  # erased with its order meanwhile: nothing to record
            continue
        delivery, stored_body, as_read = found
        endpoint = endpoints.get(as_read.endpoint_id, as_read)
        attempt = _attempt(f, delivery.delivery_id, stored_body, deps)
        reason = policy.settle(delivery, endpoint, attempt, f.result, now, cmd.schedule, f.jitter)
        metrics.webhook_attempts.labels(policy.classify(f.result).value).inc()
        attempts.append(attempt)
        settled.append(delivery)
        if reason is not None:
            # What this batch settled so far is written first: abandon_pending must not be undone by it.
            uow.deliveries.save_settled(attempts, settled)
            attempts, settled = [], []
            uow.deliveries.abandon_pending(endpoint.endpoint_id)
            uow.emit("webhook_endpoint.disabled", {"merchant_id": endpoint.merchant_id,
                                                   "endpoint_id": endpoint.endpoint_id,
                                                   "url": endpoint.url, "reason": reason})
            log.warning("webhook endpoint %s disabled: %s", endpoint.endpoint_id, reason)
    uow.deliveries.save_settled(attempts, settled)
    uow.commit()


def _endpoints_to_lock(finished: list[Finished], deliveries: dict[str, DeliveryToSend]) -> list[str]:
    """The endpoints some of these attempts may change (as read with their deliveries), in id order."""
    ids: set[str] = set()
    for f in finished:
        found = deliveries.get(f.job.delivery_id)
        if found is not None and policy.may_change_endpoint(found[2], f.result):
            ids.add(found[2].endpoint_id)
    return sorted(ids)


def _attempt(f: Finished, delivery_id: str, stored_body: str, deps: Deps) -> Attempt:
    job, result = f.job, f.result
    error = (result.error or None) and result.error[:500]
    excerpt = (result.excerpt or None) and result.excerpt[:EXCERPT_CHARS]
    if stored_body != job.body:
        # The order was deleted (its body erased) while this attempt was on the wire with the old
        # body: what the receiver echoed of it must not outlive the erasure.
        values = erasure.body_personal_values(job.body)
        error, excerpt = erasure.scrub(error, values), erasure.scrub(excerpt, values)
    return Attempt(attempt_id=deps.new_id("wha"), delivery_id=delivery_id, attempted_at=f.attempted_at,
                   duration_ms=result.duration_ms, response_status=result.status,
                   error=error, response_excerpt=excerpt)
