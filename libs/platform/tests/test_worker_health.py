"""A worker's probes tell a stuck loop from a live or idle one (worker_health, run_workers)."""
from __future__ import annotations

import json
import signal
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

from tillkey.platform.runner import run_workers
from tillkey.platform.worker_health import LoopWatch, serve_health


class Busy:
    """Like the consumer: returns from short calls all the time."""
    ready = True

    def __init__(self):
        self._stop = threading.Event()

    def run(self):
        while not self._stop.is_set():
            time.sleep(0.01)
            sum(range(100))

    def stop(self):
        self._stop.set()


class Idle(Busy):
    """Like a scheduler between ticks: one long timed wait."""

    def run(self):
        self._stop.wait(60)


class PikaIdle(Busy):
    """Like an idle outbox relay: pika's I/O loop waiting seconds for its socket or next timer."""

    def __init__(self):
        super().__init__()
        from pika.adapters.select_connection import IOLoop

        self.ioloop = IOLoop()

    def run(self):
        self.ioloop.call_later(60, self.ioloop.stop)
        self.ioloop.start()

    def stop(self):
        self.ioloop.add_callback_threadsafe(self.ioloop.stop)


class Stuck(Busy):
    """A call that never returns (a lock nobody releases)."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()
        self.lock.acquire()

    def run(self):
        self.lock.acquire()
        super().run()  # unblocked: a live loop again

    def unblock(self):
        if self.lock.locked():
            self.lock.release()

    def stop(self):
        self.unblock()
        super().stop()


class NotReady(Busy):
    ready = False  # alive, but not connected (a broker outage)


def watched(loops: dict, stuck_after: float) -> tuple[LoopWatch, dict]:
    threads = {name: threading.Thread(target=loop.run, daemon=True) for name, loop in loops.items()}
    for t in threads.values():
        t.start()
    return LoopWatch(loops, threads, stuck_after=stuck_after), threads


def tick_for(watch: LoopWatch, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        watch.tick()
        time.sleep(0.05)


def test_a_busy_and_an_idle_loop_are_live_a_blocked_one_is_not():
    loops = {"consumer": Busy(), "scheduler": Idle(), "relay": Stuck()}
    watch, _ = watched(loops, stuck_after=0.5)
    try:
        tick_for(watch, 1.0)
        live, ready, details = watch.report()
        assert (live, ready) == (False, False)
        assert details["loops"]["relay"]["same_place_for"] >= 0.5
        assert details["loops"]["consumer"]["same_place_for"] < 0.5
        assert details["loops"]["scheduler"]["same_place_for"] < 0.5
        loops["relay"].unblock()  # it moves on: live again at the next tick
        tick_for(watch, 0.2)
        assert watch.report()[:2] == (True, True)
    finally:
        for loop in loops.values():
            loop.stop()


def test_pikas_io_loop_waiting_for_its_next_timer_is_idle_not_stuck():
    # Its poll sleeps up to 5 s with no context switch, longer than this watch allows.
    loops = {"relay": PikaIdle()}
    watch, threads = watched(loops, stuck_after=0.5)
    try:
        tick_for(watch, 1.5)
        live, _, details = watch.report()
        assert live, details
    finally:
        loops["relay"].stop()
        threads["relay"].join(timeout=10)
    assert not threads["relay"].is_alive()


def test_an_unready_loop_is_live_but_not_ready_and_a_silent_supervisor_is_dead(monkeypatch):
    loops = {"consumer": NotReady()}
    watch, _ = watched(loops, stuck_after=5)
    try:
        watch.tick()
        assert watch.report()[:2] == (True, False)
        monkeypatch.setattr("tillkey.platform.worker_health.TICK_STALE_AFTER", 0.1)
        time.sleep(0.2)  # no tick: the process is wedged
        assert watch.report()[:2] == (False, False)
    finally:
        loops["consumer"].stop()


def get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as failed:
        return failed.code, failed.read()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_http_probes_answer_503_for_a_stuck_worker():
    loops = {"consumer": Stuck()}
    watch, _ = watched(loops, stuck_after=0.3)
    server = serve_health(watch, "127.0.0.1", 0)
    port = server.server_address[1]
    try:
        tick_for(watch, 0.6)
        status, text = get(port, "/healthz")
        body = json.loads(text)
        assert status == 503 and body["status"] == "failing"
        assert body["loops"]["consumer"]["alive"] is True
    finally:
        server.shutdown()
        loops["consumer"].stop()


@pytest.fixture
def saved_signals():
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


def test_run_workers_serves_probes_on_worker_health_port(monkeypatch, saved_signals):
    port = free_port()
    monkeypatch.setenv("WORKER_HEALTH_PORT", str(port))
    loops = {"consumer": Busy(), "scheduler": Idle()}
    answers = {}

    def probe_then_stop():
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not answers:
            try:
                answers.update({path: get(port, path)[0] for path in ("/healthz", "/readyz", "/nope")})
            except OSError:
                time.sleep(0.05)  # not listening yet
        for loop in loops.values():
            loop.stop()

    threading.Thread(target=probe_then_stop, daemon=True).start()
    assert run_workers("test", loops) == 0
    assert answers == {"/healthz": 200, "/readyz": 200, "/nope": 404}
