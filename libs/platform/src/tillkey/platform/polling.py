"""A worker loop for work scheduled in a database: claim due jobs, run each on a bounded thread pool.

Why: retries that are minutes or hours apart must survive restarts and must not hold a broker
message or a consumer while they wait, so the table is the schedule; a slow job (a merchant's
server hanging for its whole timeout) occupies one thread, never the loop. `claim(free)` takes at
most `free` due jobs (leasing them, so a second worker skips them) and commits before they run;
`run_job(job)` does the slow part and records it in a transaction of its own.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


class PollingWorker:
    def __init__(self, name: str, claim: Callable[[int], list], run_job: Callable[[Any], None], *,
                 threads: int = 8, poll_interval: float = 1.0):
        self._name = name
        self._claim_jobs = claim
        self._run_job = run_job
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
                jobs = self._claim()
                for job in jobs:
                    pool.submit(self._run, job)
                if not jobs or self._in_flight >= self._threads:
                    self._wake.wait(self._poll_interval)
                    self._wake.clear()
        self.ready = False

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
            self._run_job(job)
        except Exception:  # noqa: BLE001 — the job's lease runs out and it is tried again
            log.exception("%s: a job failed", self._name)
        finally:
            with self._lock:
                self._in_flight -= 1
            self._wake.set()
