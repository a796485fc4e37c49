"""The worker's gateway sweeper: resumes charges and refunds a crash left between commit and gateway.

A loop of the worker (bootstrap.build_workers wires it), with the other services' worker loops in
adapters/ (docs/architecture.md §8)."""
from __future__ import annotations

import logging

from tillkey.payments.service_layer.ports import Deps
from tillkey.payments.service_layer.submission import resume_interrupted
from tillkey.platform.periodic import PeriodicLoop

log = logging.getLogger(__name__)


class GatewaySweeper(PeriodicLoop):
    """Every `interval` seconds: send what no gateway acknowledged yet (same idempotency keys, so a
    charge the gateway did take is not taken twice). Runs in the worker, one thread, its own units
    of work; several workers sweeping at once are harmless for the same reason."""

    def __init__(self, deps: Deps, interval: float):
        super().__init__("gateway sweep", interval)
        self.deps = deps

    def tick(self) -> int:
        resumed = resume_interrupted(self.deps)
        if resumed:
            log.info("resumed %d charge(s)/refund(s) no gateway had acknowledged", resumed)
        return resumed
