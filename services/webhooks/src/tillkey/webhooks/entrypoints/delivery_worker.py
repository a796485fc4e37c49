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

from sqlalchemy.engine import Engine

from tillkey.platform.doorbell import Listener
from tillkey.webhooks.adapters.uow import DELIVERIES_CHANNEL
from tillkey.webhooks.service_layer import delivering

log = logging.getLogger(__name__)


class DeliveryWorker:
    def __init__(self, uow_factory: Callable, sender, clock, *, schedule: tuple[float, ...], timeout: float,
                 threads: int = 16, per_endpoint: int = 4, poll_interval: float = 1.0,
                 jitter: Callable[[], float] = random.random, doorbell: Engine | None = None,
                 idle_poll: float = 30.0):
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
        # With the doorbell (the database the API rings when it makes a delivery due now: a
        # redelivery, a ping), a claim that found nothing sleeps until the earliest pending delivery
        # falls due, at most `idle_poll`, instead of claiming every `poll_interval`: an idle worker
        # costs one query every half minute (issue 11's idle figure). Without it, the old cadence.
        self._doorbell = doorbell
        self._idle_poll = idle_poll
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
        listener = Listener(self._doorbell, DELIVERIES_CHANNEL, self.wake).start() if self._doorbell else None
        try:
            self._run()
        finally:
            if listener is not None:
                listener.stop()

    def _run(self) -> None:
        with ThreadPoolExecutor(self._threads, thread_name_prefix="webhook-send") as pool:
            self.ready = True
            while not self._stopping.is_set():
                self._wake.clear()  # before the work: a wake-up during it is kept for the next turn
                self._record_finished()
                jobs = self._take_handed() + self._claim()
                for job in jobs:
                    pool.submit(self._deliver, job)
                if not jobs or self._in_flight >= self._threads:
                    self._wake.wait(self._wait())
        self._record_finished()  # the pool has drained: what was sent is recorded before we exit
        self.ready = False

    def _wait(self) -> float:
        if self._doorbell is None or self._in_flight >= self._threads:
            return self._poll_interval  # a finishing send wakes the loop anyway
        return max(0.0, self._next_claim - time.monotonic())

    def _idle_wait(self) -> float:
        try:
            seconds = delivering.seconds_until_due(self._uow_factory())
        except Exception as exc:  # noqa: BLE001 — a database hiccup: poll as usual
            log.warning("could not read when the next webhook delivery falls due: %r", exc)
            return self._poll_interval
        if seconds is None:
            return self._idle_poll
        return min(max(seconds, self._poll_interval), self._idle_poll)

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
        woken, planned = self._poked, self._next_claim
        self._poked = False
        self._next_claim = time.monotonic() + self._poll_interval
        try:
            jobs = delivering.claim(self._uow_factory(), free, self._lease, self._per_endpoint, busy)
            self._more_due = len(jobs) == free
            if not jobs and self._doorbell is not None:
                # A wake-up is for work committed due now; finding none (handed over, or taken by
                # another worker) changes nothing about when the table's next job falls due.
                keep = woken and planned > time.monotonic()
                self._next_claim = planned if keep else time.monotonic() + self._idle_wait()
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
            # What was recorded may be a retry due soon: back to the poll cadence until a claim
            # finds nothing and asks again when the next delivery falls due.
            self._next_claim = min(self._next_claim, time.monotonic() + self._poll_interval)
        self._wake.set()
