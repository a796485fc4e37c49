"""A worker loop that does one piece of work every `interval` seconds: orders' lifecycle scheduler,
payments' gateway sweeper, each service's dead-letter retention sweep.

It is a Runnable for run_workers (tillkey.platform.runner: run, stop, ready): a failing pass (the
database or the broker away for a moment) is logged and tried again after `retry_after`, never
ends the worker. `last_run_at` (a time.monotonic() of the last pass that succeeded) feeds the
scheduler-lag gauge (tillkey.platform.gauges), so a loop that keeps failing shows as lagging.
"""
from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)


class PeriodicLoop:
    """Subclasses implement `tick()`: one pass, safe to run on several replicas at once."""

    def __init__(self, name: str, interval: float, *, retry_after: float | None = None,
                 traceback_on_failure: bool = True):
        self.name = name
        self.interval = interval
        self.retry_after = interval if retry_after is None else retry_after
        # False where a failure is expected now and then and says enough in one line (a broker restart).
        self._traceback_on_failure = traceback_on_failure
        self._stopping = threading.Event()
        self.ticks = 0                        # passes that succeeded (tests wait on it)
        self.last_run_at = time.monotonic()   # when the last of them ended
        self.ready = False

    def tick(self) -> object:
        raise NotImplementedError

    @property
    def stopping(self) -> bool:
        """For a long pass that works in batches: stop between them."""
        return self._stopping.is_set()

    def stop(self) -> None:
        """Safe from a signal handler: the loop ends after the pass in progress."""
        self._stopping.set()

    def run(self) -> None:
        self.ready = True
        try:
            while not self._stopping.is_set():
                wait = self.interval
                try:
                    self.tick()
                    self.ticks += 1
                    self.last_run_at = time.monotonic()
                except Exception as exc:  # noqa: BLE001 — a hiccup must not end the worker; the next pass retries
                    wait = self.retry_after
                    if self._traceback_on_failure:
                        log.exception("%s failed; trying again in %.0fs", self.name, wait)
                    else:
                        log.warning("%s failed (%s: %s); trying again in %.0fs", self.name,
                                    type(exc).__name__, exc, wait)
                self._stopping.wait(wait)
        finally:
            self.ready = False
