"""The Jepsen-style tally every chaos scenario reports into (docs/operations.md, "Chaos suite").

A scenario fills one `Tally` (through the `chaos_tally` fixture of this directory's conftest) and
the session prints one row per scenario at the end; any non-zero failure column fails the run,
even a scenario that forgot to assert.

    lost         an order paid but never delivered, a webhook that never arrived, an email never sent
    duplicated   an effect twice: a key issued twice, an email twice (same Message-ID, or the same
                 kind for the same order twice), a double charge, two orders for one Idempotency-Key
    undelivered  webhook deliveries the platform itself gave up on (or left pending past the settle time)
    unexpected   answers a client could not act on: a 5xx other than 503 with Retry-After during a
                 database or broker outage, a connection error outside a killed API's window
    redelivered  (not a failure) a webhook sent again after a timeout: Standard Webhooks is
                 at-least-once, so the receiver sees the same webhook-id twice
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

FAILURE_COLUMNS = ("lost", "duplicated", "undelivered", "unexpected")
COLUMNS = ("orders", *FAILURE_COLUMNS, "redelivered", "seconds")


@dataclass
class Tally:
    scenario: str
    orders: int = 0
    lost: int = 0
    duplicated: int = 0
    undelivered: int = 0
    unexpected: int = 0
    redelivered: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def count(self, column: str, what: list[str] | int, label: str = "") -> None:
        """Add to a column: a list of findings (each one noted) or a plain number."""
        n = what if isinstance(what, int) else len(what)
        setattr(self, column, getattr(self, column) + n)
        if not isinstance(what, int):
            self.notes.extend(f"{column}: {label + ': ' if label else ''}{item}" for item in what)

    @property
    def failures(self) -> int:
        return sum(getattr(self, c) for c in FAILURE_COLUMNS)

    def check(self) -> None:
        """Fail the scenario with every note if any failure column is not zero."""
        if self.failures:
            raise AssertionError(f"{self.scenario}: " + ", ".join(f"{c}={getattr(self, c)}" for c in FAILURE_COLUMNS)
                                 + "\n  " + "\n  ".join(self.notes[:60]))


_recorded: list[Tally] = []
_lock = threading.Lock()


def record(tally: Tally) -> None:
    with _lock:
        _recorded.append(tally)


def recorded() -> list[Tally]:
    with _lock:
        return list(_recorded)


def table(tallies: list[Tally]) -> str:
    width = max([len("scenario"), *(len(t.scenario) for t in tallies)])
    head = "scenario".ljust(width) + "".join(c.rjust(12) for c in COLUMNS)
    rows = [head, "-" * len(head)]
    for t in tallies:
        cells = [str(t.orders), *(str(getattr(t, c)) for c in FAILURE_COLUMNS), str(t.redelivered), f"{t.seconds:.0f}"]
        rows.append(t.scenario.ljust(width) + "".join(c.rjust(12) for c in cells))
    failing = sum(t.failures for t in tallies)
    rows.append(f"{len(tallies)} scenario(s), {failing} failure(s) counted"
                + (": THE RUN FAILS" if failing else ""))
    return "\n".join(rows)
