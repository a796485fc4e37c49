"""The lifecycle scheduler: every SCHEDULER_INTERVAL, remind unpaid orders once, delete expired ones.

A loop in the worker process (Runnable: run()/stop()). Time comes from the injected clock, so tests
move it instead of sleeping. Any number of replicas may run: each batch claims its orders with
FOR UPDATE SKIP LOCKED and the order's guard re-checks, so nothing is reminded or deleted twice.
"""
from __future__ import annotations

import logging
import threading
import time

from tillkey.orders.service_layer import commands as c

log = logging.getLogger(__name__)
# Per tick at most this many batches of each kind, so a huge backlog never starves stop().
MAX_BATCHES = 50


class LifecycleScheduler:
    def __init__(self, service, *, interval: float, reminder_after: float, ttl: float, batch: int = 100):
        self._service = service
        self._interval = interval
        self._remind = c.RemindUnpaidOrders(after=reminder_after, ttl=ttl, limit=batch)
        self._delete = c.DeleteExpiredOrders(ttl=ttl, limit=batch)
        self._stopping = threading.Event()
        self.ticks = 0          # completed ticks (tests wait on it)
        self.last_run_at = time.monotonic()  # a completed tick (the scheduler-lag gauge reads it)
        self.ready = False

    def stop(self) -> None:
        """Safe from a signal handler: the loop ends after the batch in progress."""
        self._stopping.set()

    def run(self) -> None:
        self.ready = True
        while not self._stopping.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 — a database hiccup must not kill the worker; next tick retries
                log.exception("lifecycle tick failed")
            self._stopping.wait(self._interval)
        self.ready = False

    def tick(self) -> dict[str, int]:
        """One pass: deletions first (an order past its TTL gets no reminder), then reminders."""
        done = {"deleted": self._drain(self._delete), "reminded": self._drain(self._remind)}
        self.ticks += 1
        self.last_run_at = time.monotonic()
        return done

    def _drain(self, command) -> int:
        total = 0
        for _ in range(MAX_BATCHES):
            if self._stopping.is_set():
                break
            claimed = self._service.handle(command)
            total += claimed
            if claimed < command.limit:
                break
        return total
