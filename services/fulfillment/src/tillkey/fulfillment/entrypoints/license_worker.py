"""The license-call worker: polls due web-service calls and makes them on a bounded pool of threads.

Why not in the consumer: a merchant's service that hangs for the whole timeout, or fails for
hours, must not hold a message or a consumer; the deliveries table is the schedule (it survives
restarts), and leases plus SKIP LOCKED make several workers safe. Why threads: one slow merchant
occupies one thread, and every other merchant's lines keep being delivered.
"""
from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from tillkey.fulfillment.service_layer import web_service

log = logging.getLogger(__name__)


class LicenseCallWorker:
    def __init__(self, uow_factory: Callable, client, clock, *, schedule: tuple[float, ...], timeout: float,
                 threads: int = 8, poll_interval: float = 0.25, jitter: Callable[[], float] = random.random):
        self._uow_factory = uow_factory
        self._client = client
        self._clock = clock
        self._schedule = schedule
        # Longer than the longest call (connect + read, each up to the timeout) plus room to record it.
        self._lease = timedelta(seconds=2 * timeout + 30)
        self._threads = threads
        self._poll_interval = poll_interval
        self._jitter = jitter
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._in_flight = 0
        self.ready = False

    def stop(self) -> None:
        """Safe from a signal handler: the loop ends after the calls in flight finish."""
        self._stopping.set()
        self._wake.set()

    def run(self) -> None:
        with ThreadPoolExecutor(self._threads, thread_name_prefix="license-call") as pool:
            self.ready = True
            while not self._stopping.is_set():
                calls = self._claim()
                for call in calls:
                    pool.submit(self._call, call)
                if not calls or self._in_flight >= self._threads:
                    self._wake.wait(self._poll_interval)
                    self._wake.clear()
        self.ready = False

    def _claim(self) -> list[web_service.Call]:
        with self._lock:
            free = self._threads - self._in_flight
        if free <= 0:
            return []
        try:
            calls = web_service.claim_due(self._uow_factory(), free, self._lease)
        except Exception:  # noqa: BLE001 — a database hiccup must not kill the worker
            log.exception("could not claim due license calls")
            self._stopping.wait(1.0)
            return []
        with self._lock:
            self._in_flight += len(calls)
        return calls

    def _call(self, call: web_service.Call) -> None:
        try:
            result = self._client.call(call.url, call.body, call.headers(self._clock.now()))
            web_service.record(self._uow_factory(), call, result, self._schedule, self._jitter())
        except Exception:  # noqa: BLE001 — the lease runs out and the line is called again
            log.exception("license call for %s: could not call or record it", call.line_id)
        finally:
            with self._lock:
                self._in_flight -= 1
            self._wake.set()
