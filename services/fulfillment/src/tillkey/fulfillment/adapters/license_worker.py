"""The license-call worker: due web-service calls, made on a bounded pool of threads.

Why not in the consumer: a merchant's service that hangs for the whole timeout, or fails for
hours, must not hold a message or a consumer; the deliveries table is the schedule (it survives
restarts), and leases plus SKIP LOCKED make several workers safe. One slow merchant occupies one
thread, and every other merchant's lines keep being delivered.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tillkey.fulfillment.service_layer import web_service
from tillkey.fulfillment.service_layer.ports import Clock
from tillkey.platform.polling import PollingWorker


class LicenseCallWorker(PollingWorker):
    """`handle` runs a command in its own unit of work (bootstrap.Fulfillment.handle); `client`
    makes the call (adapters.license_service.LicenseServiceClient), outside any transaction."""

    def __init__(self, handle: Callable[[Any], Any], client: Any, clock: Clock, *, schedule: tuple[float, ...],
                 timeout: float, threads: int = 8, poll_interval: float = 1.0,
                 jitter: Callable[[], float] = random.random):
        # The lease outlasts the longest call (connect + read, each up to the timeout) plus room to record it.
        lease = timedelta(seconds=2 * timeout + 30)

        def claim(free: int) -> list[web_service.Call]:
            return handle(web_service.ClaimDueCalls(free, lease))

        def call(job: web_service.Call) -> None:
            result = client.call(job.url, job.body, job.headers(clock.now()))
            handle(web_service.RecordCall(job, result, schedule, jitter()))

        super().__init__("license-call", claim, call, threads=threads, poll_interval=poll_interval,
                         next_due=lambda: handle(web_service.SecondsUntilDue()))
