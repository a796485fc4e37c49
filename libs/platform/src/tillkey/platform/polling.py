"""A worker loop for work scheduled in a database: claim due jobs, run each on a bounded thread pool.

Why: retries that are minutes or hours apart must survive restarts and must not hold a broker
message or a consumer while they wait, so the table is the schedule; a slow job (a merchant's
server hanging for its whole timeout) occupies one thread, never the loop. `claim(free)` takes at
most `free` due jobs (leasing them, so a second worker skips them) and commits before they run;
`run_job(job)` does the slow part and records it in a transaction of its own.

With `key` and `per_key`, at most `per_key` jobs of one key (a webhook endpoint) run at once, so
one slow receiver holds `per_key` threads, never the pool: `claim(free, busy)` is then told how
many of each key are running, to skip the keys at their cap, and a handed-over job whose key is
at its cap waits for a place.

With `record`, `run_job` only does the slow part and returns its outcome; the loop hands every
outcome that finished since its last turn to `record(outcomes)`, one transaction for the lot (a
burst of emails costs a few statements, not a transaction each). If recording fails (the database
restarting), the outcomes are kept and recorded again on the next turns for up to `record_for`
seconds: a job whose effect happened (an email the server accepted, a webhook the receiver
answered) is not left to its lease running out and run a second time. When the database is up
and the lot still fails, each outcome is recorded on its own, so one that cannot be recorded
holds up none of the others. A job stays counted in flight until it is recorded, so its lease is
never outlived by a claim of this worker.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from tillkey.platform import db_errors

log = logging.getLogger(__name__)


class Handoff:
    """Where a consumer hands the jobs it just created to a worker of its own process.

    Unconnected (an API process, tools): the jobs wait for the worker's poll. Connected: the
    consumer writes each job already leased (`lease`) and, once its transaction committed, passes
    it on in memory (`SqlAlchemyUnitOfWork.hand_off`), so the first run needs no claim transaction
    and no poll wait. The lease keeps every other worker off the job meanwhile; if this process
    dies, the lease ends and a poll anywhere takes the job (at least once, never lost).
    """

    def __init__(self) -> None:
        self.lease: timedelta | None = None
        self.receiver: Callable[[list], None] | None = None

    def connect(self, receiver: Callable[[list], None], lease: timedelta) -> None:
        self.receiver, self.lease = receiver, lease

    @property
    def connected_lease(self) -> timedelta | None:
        return self.lease if self.receiver is not None else None


# How long finished jobs wait for the ones still running before they are recorded together.
RECORD_LINGER_SECONDS = 0.005


class PollingWorker:
    def __init__(self, name: str, claim: Callable[..., list], run_job: Callable[[Any], Any], *,
                 threads: int = 8, poll_interval: float = 1.0,
                 record: Callable[[list], None] | None = None, record_for: float = 20.0,
                 next_due: Callable[[], float | None] | None = None, idle_poll: float = 30.0,
                 key: Callable[[Any], str] | None = None, per_key: int = 0,
                 record_linger: float = RECORD_LINGER_SECONDS):
        self._name = name
        self._record_linger = record_linger
        self._claim_jobs = claim
        self._run_job = run_job
        self._record = record
        self._record_for = record_for
        self._finished: list[tuple[float, Any, Any]] = []  # (finished at, job, outcome) waiting for `record`
        self._handed: deque[tuple[float, Any]] = deque()  # (start by, job) from `take`
        # Claim (a query) only when it can find something: after `wake()`, when the last claim
        # filled every free thread (more may be due), or once per poll interval (retries falling
        # due). A job finishing or a hand-over wakes the loop without a claim.
        self._poked = True
        self._more_due = False
        self._next_claim = 0.0
        self._threads = threads
        self._poll_interval = poll_interval
        # `next_due()`: seconds until the earliest job the table holds falls due (a retry, a lease
        # running out), None when it holds none. With it, a claim that found nothing sleeps until
        # then, at most `idle_poll`, instead of claiming every `poll_interval`: an idle worker
        # costs one query every half minute, not one a second (issue 11's idle figure). Only for
        # workers whose new jobs are written by their own process (which wakes them) or carry
        # their due time in the table.
        self._next_due = next_due
        self._idle_poll = idle_poll
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._key = key
        self._per_key = per_key if key is not None else 0
        self._busy: dict[str, int] = {}  # jobs in flight per key (with `key`)
        self.ready = False

    def take(self, jobs: list, start_within: float) -> None:
        """Jobs handed over already leased to us (see Handoff); they run before any claimed job.

        `start_within`: seconds after which a job still waiting here could not finish inside its
        lease; it is dropped then, its lease runs out and a poll takes it (once, later, never twice
        at once).
        """
        start_by = time.monotonic() + start_within
        with self._lock:
            self._handed.extend((start_by, job) for job in jobs)
        self._wake.set()

    def wake(self) -> None:
        """From any thread: new work was committed (a consumer's batch); claim now, not at the next poll."""
        self._poked = True
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
                self._linger_for_more_finished()
                unrecorded = self._record_finished()
                jobs = self._take_handed() + self._claim()
                for job in jobs:
                    pool.submit(self._run, job)
                if not jobs or self._in_flight >= self._threads:
                    self._wake.wait(min(self._poll_interval, 1.0) if unrecorded else self._wait())
        self._record_finished()  # the pool has drained: what was done is recorded before we exit
        self.ready = False

    def _wait(self) -> float:
        if self._next_due is None or self._in_flight >= self._threads:
            return self._poll_interval  # a finishing job wakes the loop anyway
        return max(0.0, self._next_claim - time.monotonic())

    def _idle_wait(self) -> float:
        next_due = self._next_due
        if next_due is None:  # _claim asks only a worker that has `next_due`
            return self._poll_interval
        try:
            seconds = next_due()
        except Exception as exc:  # noqa: BLE001 — a database hiccup: poll as usual
            log.warning("%s: could not read when the next job falls due: %s", self._name, db_errors.summary(exc))
            return self._poll_interval
        if seconds is None:
            return self._idle_poll
        return min(max(seconds, self._poll_interval), self._idle_poll)

    def _linger_for_more_finished(self) -> None:
        """Outcomes waiting to be recorded while other jobs are still running: wait a moment (at
        most `record_linger`) for those to finish too, so one transaction records them together.
        Under a flow of jobs that made batches of several instead of one or two per transaction
        (make bench: 2.4 record transactions per 5 webhooks). Recording is not on anyone's wait:
        the webhook or email went out before."""
        if self._record is None or self._record_linger <= 0:
            return
        deadline = time.monotonic() + self._record_linger
        while not self._stopping.is_set():
            with self._lock:
                waiting = len(self._finished)
                running = self._in_flight - waiting
            left = deadline - time.monotonic()
            if not waiting or running <= 0 or left <= 0:
                return
            self._wake.clear()  # the loop takes hand-overs and claims right after this anyway
            self._wake.wait(left)  # a job finishing sets it

    def _record_finished(self) -> int:
        """Record what finished; → how many outcomes are still waiting (recording failed)."""
        with self._lock:
            finished, self._finished = self._finished, []
        if not finished:
            return 0
        failed = self._record_all(finished)
        now = time.monotonic()
        keep = [item for item in failed if now - item[0] < self._record_for]
        if len(keep) < len(failed):
            log.error("%s: could not record %d finished jobs for %.0fs; giving up on them (their leases run "
                      "out and they are run again)", self._name, len(failed) - len(keep), self._record_for)
        kept = {id(item) for item in keep}
        with self._lock:
            self._finished[:0] = keep
            for item in finished:
                if id(item) not in kept:
                    self._release(item[1])
        return len(keep)

    def _record_all(self, finished: list[tuple[float, Any, Any]]) -> list[tuple[float, Any, Any]]:
        """→ the items that could not be recorded: all in one transaction, else one by one."""
        record = self._record
        if record is None:  # _run keeps outcomes only for a worker that has `record`
            raise RuntimeError(f"{self._name}: finished jobs to record but no `record`")
        try:
            record([outcome for _at, _job, outcome in finished])
            return []
        except Exception as exc:  # noqa: BLE001 — kept, and tried again on the next turns
            if len(finished) == 1 or db_errors.database_unavailable(exc):
                log.warning("%s: could not record %d finished jobs; trying again: %s", self._name, len(finished),
                            db_errors.summary(exc))
                return finished
            log.warning("%s: could not record %d finished jobs together; recording one by one", self._name,
                        len(finished), exc_info=True)
        failed = []
        for item in finished:
            try:
                record([item[2]])
            except Exception:  # noqa: BLE001 — this one is kept; the others are recorded
                log.exception("%s: could not record a finished job", self._name)
                failed.append(item)
        return failed

    def _count_in(self, job) -> None:
        """Under the lock: `job` is in flight."""
        self._in_flight += 1
        if self._key is not None:
            key = self._key(job)
            self._busy[key] = self._busy.get(key, 0) + 1

    def _release(self, job) -> None:
        """Under the lock: `job` is done (recorded, failed, or given up on)."""
        self._in_flight -= 1
        if self._key is not None:
            key = self._key(job)
            left = self._busy.get(key, 0) - 1
            if left > 0:
                self._busy[key] = left
            else:
                self._busy.pop(key, None)

    def _fits(self, job) -> bool:
        """Under the lock: a thread is free, and a place under its key's cap."""
        if self._in_flight >= self._threads:
            return False
        return self._key is None or self._busy.get(self._key(job), 0) < self._per_key

    def _take_handed(self) -> list:
        """Handed-over jobs that fit now, counted in flight; the rest wait in order. One that waited
        past its start-by is dropped: its lease ends before it could finish, and a poll takes it."""
        now = time.monotonic()
        taken: list = []
        waiting: deque[tuple[float, Any]] = deque()
        with self._lock:
            while self._handed:
                start_by, job = self._handed.popleft()
                if start_by <= now:
                    continue
                if self._fits(job):
                    taken.append(job)
                    self._count_in(job)
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
            jobs = self._claim_jobs(free, busy) if self._key is not None else self._claim_jobs(free)
            self._more_due = len(jobs) == free
            if not jobs and self._next_due is not None:
                # A wake-up is for work committed due now; finding none (handed over, or taken by
                # another worker) changes nothing about when the table's next job falls due.
                keep = woken and planned > time.monotonic()
                self._next_claim = planned if keep else time.monotonic() + self._idle_wait()
        except Exception as exc:  # noqa: BLE001 — a database hiccup must not kill the worker
            if db_errors.database_unavailable(exc):  # a restart or failover: expected, said briefly
                log.warning("%s: could not claim due jobs, the database is unavailable: %s", self._name,
                            db_errors.summary(exc))
            else:
                log.exception("%s: could not claim due jobs", self._name)
            self._stopping.wait(1.0)
            return []
        with self._lock:
            for job in jobs:
                self._count_in(job)
        return jobs

    def _run(self, job) -> None:
        try:
            outcome = self._run_job(job)
        except Exception:  # noqa: BLE001 — the job's lease runs out and it is tried again
            log.exception("%s: a job failed", self._name)
            with self._lock:
                self._release(job)
        else:
            with self._lock:
                if self._record is None:
                    self._release(job)
                else:
                    self._finished.append((time.monotonic(), job, outcome))
        with self._lock:
            # What it recorded may be a retry due soon: back to the poll cadence until a claim finds
            # nothing and asks next_due again (never a claim per finished job under load).
            self._next_claim = min(self._next_claim, time.monotonic() + self._poll_interval)
        self._wake.set()
