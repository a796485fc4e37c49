"""Closing kept connections (HTTP keep-alive, SMTP sessions) once they have been idle a while.

Why a thread that exists only while something is kept: a connection left open forever holds a
socket (and the server's slot) long after a burst of work, but a timer that ticks while nothing is
kept would cost CPU on an idle platform. `kept()` is called whenever a connection goes back to
rest; the thread sleeps until the earliest one may expire and ends when none is left.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class IdleCloser:
    """Runs `sweep` on a daemon thread while anything is kept.

    `sweep()` closes what has been idle too long and returns the seconds until the next kept thing
    may expire, or None when nothing is kept any more (the thread then ends; the next `kept()`
    starts another).
    """

    def __init__(self, sweep: Callable[[], float | None], name: str):
        self._sweep = sweep
        self._name = name
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._dirty = False  # kept() since the running sweep began: it may not have seen it
        self._stop = threading.Event()

    def kept(self) -> None:
        with self._lock:
            self._dirty = True
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                self._dirty = False
            try:
                wait = self._sweep()
            except Exception:  # noqa: BLE001 — a failed close must not leave the rest open for good
                log.exception("%s: closing idle connections failed", self._name)
                wait = 5.0
            if wait is None:
                with self._lock:
                    if not self._dirty:
                        self._thread = None
                        return
                continue
            self._stop.wait(max(wait, 0.05))
        with self._lock:
            self._thread = None
