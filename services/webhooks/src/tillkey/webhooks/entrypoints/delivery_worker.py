"""The delivery worker: polls due deliveries and sends them on a bounded pool of threads.

Why a pool and a per-endpoint cap: a receiver that hangs for the whole timeout occupies one
thread, not the worker, so every other endpoint keeps receiving. Why the sending threads hand
their results back to the loop: the loop records every finished attempt in one transaction, so a
burst of webhooks costs a few statements per batch instead of a transaction per webhook. Why polling the database and
not the broker: retries are hours apart and must survive restarts; the deliveries table is the
schedule, and leases make several workers safe.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from tillkey.webhooks.service_layer import delivering

log = logging.getLogger(__name__)


class DeliveryWorker:
    def __init__(self, uow_factory: Callable, sender, clock, *, schedule: tuple[float, ...], timeout: float,
                 threads: int = 16, per_endpoint: int = 4, poll_interval: float = 1.0,
                 jitter: Callable[[], float] = random.random):
        self._uow_factory = uow_factory
        self._sender = sender
        self._clock = clock
        self._schedule = schedule
        # Longer than the longest send (connect + read, each up to the timeout) plus room to record it.
        self._lease = timedelta(seconds=2 * timeout + 30)
        # A handed-over job must start before its lease could run out mid-send (see `take`).
        self._start_within = self._lease.total_seconds() - (2 * timeout + 10)
        self._handed: deque[tuple[float, delivering.Job]] = deque()
        # Claim (a query) only when it can find something: after `wake()` (a redelivery asked for,
        # a batch not handed over), when the last claim filled every free thread, or once per poll
        # interval (retries falling due). A send finishing or a hand-over wakes the loop, no claim.
        self._poked = True
        self._more_due = False
        self._next_claim = 0.0
        self._threads = threads
        self._per_endpoint = per_endpoint
        self._poll_interval = poll_interval
        self._jitter = jitter
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._busy: dict[str, int] = {}
        self._in_flight = 0
        self._finished: list[delivering.Finished] = []  # sent, not yet recorded (still leased)
        self.ready = False

    @property
    def lease(self) -> timedelta:
        return self._lease

    def take(self, jobs: list[delivering.Job]) -> None:
        """From the consumer, after its commit: deliveries it created already leased to us.

        They are sent before any claimed job. One still waiting when its lease could run out
        mid-send (a slow endpoint's backlog) is dropped here: the lease ends and a poll claims it,
        so it is sent once, later, never twice at once.
        """
        start_by = time.monotonic() + self._start_within
        with self._lock:
            self._handed.extend((start_by, job) for job in jobs)
        self._wake.set()

    def wake(self) -> None:
        """From any thread: deliveries were committed that were not handed over; claim them now."""
        self._poked = True
        self._wake.set()

    def stop(self) -> None:
        """Safe from a signal handler: the loop ends after the sends in flight finish."""
        self._stopping.set()
        self._wake.set()

    def run(self) -> None:
        with ThreadPoolExecutor(self._threads, thread_name_prefix="webhook-send") as pool:
            self.ready = True
            while not self._stopping.is_set():
                self._wake.clear()  # before the work: a wake-up during it is kept for the next turn
                self._record_finished()
                jobs = self._take_handed() + self._claim()
                for job in jobs:
                    pool.submit(self._deliver, job)
                if not jobs or self._in_flight >= self._threads:
                    self._wake.wait(self._poll_interval)
        self._record_finished()  # the pool has drained: what was sent is recorded before we exit
        self.ready = False

    def _take_handed(self) -> list:
        """Handed-over jobs that fit now (free threads, per-endpoint cap), counted in flight."""
        now = time.monotonic()
        taken, waiting = [], deque()
        with self._lock:
            while self._handed:
                start_by, job = self._handed.popleft()
                if start_by <= now:
                    continue  # its lease ends before a send could: the poll takes it then
                if (self._in_flight < self._threads
                        and self._busy.get(job.endpoint_id, 0) < self._per_endpoint):
                    taken.append(job)
                    self._in_flight += 1
                    self._busy[job.endpoint_id] = self._busy.get(job.endpoint_id, 0) + 1
                else:
                    waiting.append((start_by, job))
            self._handed = waiting
        return taken

    def _claim(self) -> list:
        with self._lock:
            free = self._threads - self._in_flight
            busy = dict(self._busy)
        if free <= 0 or not (self._poked or self._more_due or time.monotonic() >= self._next_claim):
            return []
        self._poked = False
        self._next_claim = time.monotonic() + self._poll_interval
        try:
            jobs = delivering.claim(self._uow_factory(), free, self._lease, self._per_endpoint, busy)
            self._more_due = len(jobs) == free
        except Exception:  # noqa: BLE001 — a database hiccup must not kill the worker
            log.exception("could not claim due webhook deliveries")
            self._stopping.wait(1.0)
            return []
        with self._lock:
            for job in jobs:
                self._in_flight += 1
                self._busy[job.endpoint_id] = self._busy.get(job.endpoint_id, 0) + 1
        return jobs

    def _deliver(self, job: delivering.Job) -> None:
        started = self._clock.now()
        try:
            result = self._sender.send(job.url, job.body, job.headers(started))
        except Exception:  # noqa: BLE001 — the lease runs out and the delivery is tried again
            log.exception("webhook delivery %s: could not send", job.delivery_id)
            self._release([job])
            return
        with self._lock:
            self._finished.append(delivering.Finished(job, result, started, self._jitter()))
        self._wake.set()

    def _record_finished(self) -> None:
        with self._lock:
            finished, self._finished = self._finished, []
        if not finished:
            return
        try:
            delivering.record_many(self._uow_factory(), finished, self._schedule)
        except Exception:  # noqa: BLE001 — one bad row must not lose the others' records
            if len(finished) == 1:
                log.exception("webhook delivery %s: could not record the attempt", finished[0].job.delivery_id)
            else:
                log.warning("could not record %d webhook attempts together; recording one by one", len(finished),
                            exc_info=True)
                for one in finished:
                    try:
                        delivering.record_many(self._uow_factory(), [one], self._schedule)
                    except Exception:  # noqa: BLE001 — the lease runs out and the delivery is tried again
                        log.exception("webhook delivery %s: could not record the attempt", one.job.delivery_id)
        self._release([f.job for f in finished])

    def _release(self, jobs: list[delivering.Job]) -> None:
        with self._lock:
            for job in jobs:
                self._in_flight -= 1
                left = self._busy[job.endpoint_id] - 1
                if left:
                    self._busy[job.endpoint_id] = left
                else:
                    del self._busy[job.endpoint_id]
        self._wake.set()
