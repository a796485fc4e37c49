"""How long a loop waits for more work after a round that left some waiting: the consumer between
batches, the outbox relay between claims (docs/architecture.md 7.2).

Only after a round that found more waiting: after a quiet moment the first message or row is taken
at once, so light load sees no added latency. Under a steady flow the short wait lets the next round
fill: one transaction then carries many messages instead of one or two. Once the flow has lasted
`busy_after` rounds in a row (the queue is building up) the wait grows: at saturation every process
competes for the CPU, and a transaction that carries ten messages instead of two is most of what a
message costs (make bench on PostgreSQL: 59.9 → 50.6 ms of CPU per full order). A flow that is not
building up never reaches it, so moderate load keeps the short wait.
"""
from __future__ import annotations

SHORT_SECONDS = 0.005
BUSY_SECONDS = 0.05
BUSY_AFTER = 3


class Linger:
    """One loop's wait; not shared between threads (each loop makes its own)."""

    def __init__(self, short: float = SHORT_SECONDS, busy: float = BUSY_SECONDS, busy_after: int = BUSY_AFTER):
        self.short = short
        self.busy = max(busy, short)
        self.busy_after = busy_after
        self._streak = 0  # rounds in a row that left work waiting

    def after_busy_round(self) -> float:
        """A round ended with more work waiting: seconds to wait before the next one."""
        self._streak += 1
        return self.busy if self._streak >= self.busy_after else self.short

    def reset(self) -> None:
        """A round ended with nothing waiting: the next flow starts with the short wait."""
        self._streak = 0
