"""A periodic loop runs its pass every interval, outlives a failing pass and stops promptly."""
from __future__ import annotations

import itertools
import logging
import threading
import time

from tillkey.platform.periodic import PeriodicLoop


class Counting(PeriodicLoop):
    def __init__(self, interval, fail_first=0, **kw):
        super().__init__("counting pass", interval, **kw)
        self.calls, self._fail_first = [], fail_first

    def tick(self):
        self.calls.append(time.monotonic())
        if len(self.calls) <= self._fail_first:
            raise ConnectionError("database away")
        return len(self.calls)


def run_until(loop: PeriodicLoop, done, timeout: float = 5.0) -> threading.Thread:
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.005)
    loop.stop()
    thread.join(timeout)
    assert not thread.is_alive()
    return thread


def test_passes_repeat_every_interval_and_count_with_their_time():
    loop = Counting(0.02)
    before = loop.last_run_at
    run_until(loop, lambda: loop.ticks >= 3)
    assert loop.ticks >= 3 and loop.last_run_at > before
    gaps = [b - a for a, b in itertools.pairwise(loop.calls)]
    assert min(gaps) >= 0.015  # waits its interval between passes
    assert loop.ready is False  # no longer running


def test_a_failing_pass_is_logged_retried_after_its_own_wait_and_not_counted(caplog):
    loop = Counting(30.0, fail_first=2, retry_after=0.01)
    with caplog.at_level(logging.ERROR, logger="tillkey.platform.periodic"):
        run_until(loop, lambda: loop.ticks >= 1)
    assert len(loop.calls) >= 3 and loop.ticks == 1  # two failures, then one pass; then 30 s of wait
    failures = [r for r in caplog.records if "counting pass failed" in r.getMessage()]
    assert len(failures) == 2 and failures[0].exc_info is not None


def test_a_quiet_loop_logs_a_failure_in_one_line():
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("tillkey.platform.periodic")
    logger.addHandler(handler)
    try:
        loop = Counting(30.0, fail_first=1, retry_after=0.01, traceback_on_failure=False)
        run_until(loop, lambda: loop.ticks >= 1)
    finally:
        logger.removeHandler(handler)
    (failure,) = [r for r in records if "failed" in r.getMessage()]
    assert failure.levelno == logging.WARNING and failure.exc_info is None
    assert "ConnectionError: database away" in failure.getMessage()


def test_stop_ends_a_long_wait_at_once():
    loop = Counting(60.0)
    started = time.monotonic()
    run_until(loop, lambda: loop.ticks >= 1)
    assert time.monotonic() - started < 2.0
