"""A worker loop for work scheduled in a database: claim due jobs, run each on a bounded thread pool.

Why: retries that are minutes or hours apart must survive restarts and must not hold a broker
message or a consumer while they wait, so the table is the schedule; a slow job (a merchant's
server hanging for its whole timeout) occupies one thread, never the loop. `claim(free)` takes at
most `free` due jobs (leasing them, so a second worker skips them) and commits before they run;
`run_job(job)` does the slow part and records it in a transaction of its own.

With `record`, `run_job` only does the slow part and returns its outcome; the loop hands every
outcome that finished since its last turn to `record(outcomes)`, one transaction for the lot (a
burst of emails costs a few statements, not a transaction each). If recording fails (the database
restarting), the outcomes are kept and recorded again on the next turns for up to `record_for`
seconds: a job whose effect happened (an email the server accepted) is not left to its lease
running out and run a second time. A job stays counted in flight until it is recorded, so its
lease is never outlived by a claim of this worker.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


class PollingWorker:
    def __init__(self, name: str, claim: Callable[[int], list], run_job: Callable[[Any], Any], *,
                 threads: int = 8, poll_interval: float = 1.0,
                 record: Callable[[list], None] | None = None, record_for: float = 20.0):
        self._name = name
        self._claim_jobs = claim
        self._run_job = run_job
        self._record = record
        self._record_for = record_for
        self._finished: list[tuple[float, Any]] = []  # (finished at, outcome) waiting for `record`
        self._threads = threads
        self._poll_interval = poll_interval
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._in_flight = 0
        self.ready = False

    def wake(self) -> None:
        """From any thread: new work was committed (a consumer's batch); claim now, not at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Safe from a signal handler: the loop ends after the jobs in flight finish."""
        self._stopping.set()
        self._wake.set()

    def run(self) -> None:
        with ThreadPoolExecutor(self._threads, thread_name_prefix=self._name) as pool:
            self.ready = True
            while not self._stopping.is_set():
                self._wake.clear()  # before the work: a wake-up during it is kept for the next wait
                unrecorded = self._record_finished()
                jobs = self._claim()
                for job in jobs:
                    pool.submit(self._run, job)
                if not jobs or self._in_flight >= self._threads:
                    self._wake.wait(min(self._poll_interval, 1.0) if unrecorded else self._poll_interval)
        self._record_finished()  # the pool has drained: what was done is recorded before we exit
        self.ready = False

    def _record_finished(self) -> int:
        """Record what finished; → how many outcomes are still waiting (recording failed)."""
        with self._lock:
            finished, self._finished = self._finished, []
        if not finished:
            return 0
        try:
            self._record([outcome for _at, outcome in finished])
        except Exception:  # noqa: BLE001 — kept, and tried again on the next turns
            now = time.monotonic()
            keep = [item for item in finished if now - item[0] < self._record_for]
            if len(keep) < len(finished):
                log.exception("%s: could not record %d finished jobs for %.0fs; giving up on them", self._name,
                              len(finished) - len(keep), self._record_for)
            else:
                log.warning("%s: could not record %d finished jobs; trying again", self._name, len(finished),
                            exc_info=True)
            with self._lock:
                self._finished[:0] = keep
                self._in_flight -= len(finished) - len(keep)
            return len(keep)
        with self._lock:
            self._in_flight -= len(finished)
        return 0

    def _claim(self) -> list:
        with self._lock:
            free = self._threads - self._in_flight
        if free <= 0:
            return []
        try:
            jobs = self._claim_jobs(free)
        except Exception:  # noqa: BLE001 — a database hiccup must not kill the worker
            log.exception("%s: could not claim due jobs", self._name)
            self._stopping.wait(1.0)
            return []
        with self._lock:
            self._in_flight += len(jobs)
        return jobs

    def _run(self, job) -> None:
        try:
            outcome = self._run_job(job)
        except Exception:  # noqa: BLE001 — the job's lease runs out and it is tried again
            log.exception("%s: a job failed", self._name)
            with self._lock:
                self._in_flight -= 1
        else:
            with self._lock:
                if self._record is None:
                    self._in_flight -= 1
                else:
                    self._finished.append((time.monotonic(), outcome))
        self._wake.set()
