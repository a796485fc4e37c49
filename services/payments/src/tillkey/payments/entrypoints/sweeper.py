"""The worker's gateway sweeper: resumes charges and refunds a crash left between commit and gateway."""
from __future__ import annotations

import logging
import threading
import time

from tillkey.payments.service_layer.deps import PaymentDeps
from tillkey.payments.service_layer.submission import resume_interrupted

log = logging.getLogger(__name__)


class GatewaySweeper:
    """Every `interval` seconds: send what no gateway acknowledged yet (same idempotency keys, so a
    charge the gateway did take is not taken twice). Runs in the worker, one thread, its own units
    of work; several workers sweeping at once are harmless for the same reason."""

    def __init__(self, deps: PaymentDeps, interval: float):
        self.deps = deps
        self.interval = interval
        self._stop = threading.Event()
        self.last_run_at = time.monotonic()  # a completed sweep (the scheduler-lag gauge reads it)

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                resumed = resume_interrupted(self.deps)
                if resumed:
                    log.info("resumed %d charge(s)/refund(s) no gateway had acknowledged", resumed)
                self.last_run_at = time.monotonic()
            except Exception:  # noqa: BLE001 — a database or gateway hiccup must not end the loop
                log.exception("gateway sweep failed; trying again in %.0fs", self.interval)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
