"""`make chaos`: the fault suite's fixtures and the tally table at the end (tests/chaos/tally.py)."""
from __future__ import annotations

import time

import pytest

from tests.chaos import tally as tallies


@pytest.fixture
def chaos_tally(request):
    """One row of the table: the scenario fills it, it is recorded whether the test passed or not."""
    row = tallies.Tally(scenario=request.node.name.removeprefix("test_"))
    started = time.monotonic()
    yield row
    row.seconds = time.monotonic() - started
    tallies.record(row)


def pytest_terminal_summary(terminalreporter):
    rows = tallies.recorded()
    if not rows:
        return
    terminalreporter.section("chaos tally")
    terminalreporter.write_line(tallies.table(rows))
    for row in rows:
        for note in row.notes[:20]:
            terminalreporter.write_line(f"  {row.scenario}: {note}")


def pytest_sessionfinish(session, exitstatus):
    # Any failure counted fails the run, even in a scenario that did not assert on its tally.
    if any(row.failures for row in tallies.recorded()) and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
