"""The lifecycle scheduler: every SCHEDULER_INTERVAL, remind unpaid orders once, delete expired ones.

A loop in the worker process (Runnable: run()/stop()). Time comes from the injected clock, so tests
move it instead of sleeping. Any number of replicas may run: each batch claims its orders with
FOR UPDATE SKIP LOCKED and the order's guard re-checks, so nothing is reminded or deleted twice.
"""
from __future__ import annotations

from tillkey.orders.service_layer.lifecycle import DeleteExpiredOrders, RemindUnpaidOrders
from tillkey.platform.periodic import PeriodicLoop

# Per tick at most this many batches of each kind, so a huge backlog never starves stop().
MAX_BATCHES = 50


class LifecycleScheduler(PeriodicLoop):
    def __init__(self, service, *, interval: float, reminder_after: float, ttl: float, batch: int = 100):
        super().__init__("lifecycle tick", interval)
        self._service = service
        self._remind = RemindUnpaidOrders(after=reminder_after, ttl=ttl, limit=batch)
        self._delete = DeleteExpiredOrders(ttl=ttl, limit=batch)

    def tick(self) -> dict[str, int]:
        """One pass: deletions first (an order past its TTL gets no reminder), then reminders."""
        return {"deleted": self._drain(self._delete), "reminded": self._drain(self._remind)}

    def _drain(self, command) -> int:
        total = 0
        for _ in range(MAX_BATCHES):
            if self.stopping:
                break
            claimed = self._service.handle(command)
            total += claimed
            if claimed < command.limit:
                break
        return total
