"""How often a thread has woken up: the idle tests of issue 11 (a loop that sleeps until it has
work must not wake for nothing) read the kernel's count rather than timing anything."""
from __future__ import annotations

import threading

import pytest


def wake_ups(thread: threading.Thread) -> int:
    """The thread's voluntary context switches so far: each time it went to sleep and woke again."""
    try:
        with open(f"/proc/self/task/{thread.native_id}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("voluntary_ctxt_switches:"))
    except OSError:
        pytest.skip("no /proc (not Linux)")
