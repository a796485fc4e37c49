"""The delivery worker: polls due deliveries and sends them on a bounded pool of threads
(tillkey.platform.polling.PollingWorker, like the mail sender and the license-call worker).

Why a pool and a per-endpoint cap: a receiver that hangs for the whole timeout occupies one
thread, not the worker, so every other endpoint keeps receiving. Why the sending threads hand
their results back to the loop: the loop records every finished attempt in one transaction, so a
burst of webhooks costs a few statements per batch instead of a transaction per webhook. Why
polling the database and not the broker: retries are hours apart and must survive restarts; the
deliveries table is the schedule, and leases make several workers safe.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tillkey.platform.polling import PollingWorker
from tillkey.webhooks.service_layer import delivering
from tillkey.webhooks.service_layer.ports import Clock, Sender


class DeliveryFailed(Exception):
    """The send raised (not an answer from the receiver): the lease runs out and it is sent again."""


class DeliveryWorker(PollingWorker):
    def __init__(self, handle: Callable[[Any], Any], sender: Sender, clock: Clock, *, schedule: tuple[float, ...],
                 timeout: float, threads: int = 16, per_endpoint: int = 4, poll_interval: float = 1.0,
                 jitter: Callable[[], float] = random.random):
        self._handle = handle  # the service's: runs a command in its own unit of work (bootstrap.Webhooks)
        self._sender = sender
        self._clock = clock
        self._schedule = schedule
        self._jitter = jitter
        # Longer than the longest send (connect + read, each up to the timeout) plus room to record it.
        self._lease = timedelta(seconds=2 * timeout + 30)
        # A handed-over job must start before its lease could run out mid-send (see `take`).
        self._start_within = self._lease.total_seconds() - (2 * timeout + 10)
        self._per_endpoint = per_endpoint
        # A sent attempt that cannot be recorded yet is kept 20 s: the lease has 30 s beyond the longest send.
        super().__init__("webhook-send", self._claim_due, self._send, threads=threads, poll_interval=poll_interval,
                         record=self._record_attempts, record_for=20.0,
                         key=lambda job: job.endpoint_id, per_key=per_endpoint)

    @property
    def lease(self) -> timedelta:
        return self._lease

    def take(self, jobs: list[delivering.Job], start_within: float | None = None) -> None:
        """From the consumer, after its commit: deliveries it created already leased to us.

        They are sent before any claimed job. One still waiting when its lease could run out
        mid-send (a slow endpoint's backlog) is dropped here: the lease ends and a poll claims it,
        so it is sent once, later, never twice at once.
        """
        super().take(jobs, self._start_within if start_within is None else start_within)

    def _claim_due(self, free: int, busy: dict[str, int]) -> list[delivering.Job]:
        jobs: list[delivering.Job] = self._handle(
            delivering.ClaimDueDeliveries(free, self._lease, self._per_endpoint, busy))
        return jobs

    def _send(self, job: delivering.Job) -> delivering.Finished:
        started = self._clock.now()
        try:
            result = self._sender.send(job.url, job.body, job.headers(started))
        except Exception as exc:
            raise DeliveryFailed(f"webhook delivery {job.delivery_id}: could not send") from exc
        return delivering.Finished(job, result, started, self._jitter())

    def _record_attempts(self, finished: list[delivering.Finished]) -> None:
        self._handle(delivering.RecordAttempts(finished, self._schedule))
