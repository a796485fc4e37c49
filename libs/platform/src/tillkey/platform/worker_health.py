"""A worker's `/healthz` and `/readyz`, for probes (Kubernetes, compose healthchecks).

A worker is loops on threads (consumer, outbox relay, schedulers). A loop whose thread dies already
ends the process (run_workers), so the probe's job is the loop that is alive but stuck: blocked for
good in a call that never returns (a peer that never answers, a lock never released) while the
broker thinks it still has a consumer. Nothing in the loops has to report for that: every tick of
run_workers samples, for each loop thread, its innermost Python frame and (Linux) how often the
kernel has switched it in and out. A live loop moves on within seconds even when idle: a loop of
short sleeps wakes each time. A stuck one stays in the same frame at the same instruction and never
wakes. A timed wait ends by itself, so it counts as idle: one in `threading` (`Event.wait(timeout)`:
a scheduler's interval, a poll), and pika's I/O loop waiting for its socket or next timer (it always
returns within pika's 5 s poll bound; an idle relay sits there for its whole 5 s safety poll, which
a short WORKER_STUCK_AFTER took for a stuck loop).
Erring on the side of not killing: a call that wakes up by itself while it waits (psycopg polls
its socket every 0.1 s while a query waits for a lock) counts as live however long it lasts.

`/healthz` (liveness) fails when the supervisor stopped ticking or a loop stayed put longer than
`stuck_after`: restarting is the cure. `/readyz` also wants every loop `ready` (connected and
consuming): a broker outage makes a worker unready, not dead.
"""
from __future__ import annotations

import json
import os
import selectors
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

from tillkey.platform import metrics

# The supervisor ticks every 2 s (runner.SUPERVISOR_TICK): silence this long means a wedged process.
TICK_STALE_AFTER = 10.0


class _Watched:
    def __init__(self, loop, thread: threading.Thread):
        self.loop, self.thread = loop, thread
        self.frame: FrameType | None = None
        self.lasti, self.since = -1, time.monotonic()
        self.switches: int | None = None


class LoopWatch:
    def __init__(self, loops: dict, threads: dict[str, threading.Thread], stuck_after: float):
        self._watched = {name: _Watched(loops[name], threads[name]) for name in loops}
        self._stuck_after = stuck_after
        self._ticked = time.monotonic()
        self._lock = threading.Lock()

    def tick(self) -> None:
        """From run_workers' supervision loop."""
        now = time.monotonic()
        frames = sys._current_frames()  # noqa: SLF001 — the one way to see where another thread is
        with self._lock:
            for w in self._watched.values():
                frame = frames.get(w.thread.ident) if w.thread.ident is not None else None
                lasti = frame.f_lasti if frame is not None else -1
                switches = _context_switches(w.thread)
                # Holding the frame keeps it alive, so `is` can never match a new frame at a reused address.
                moved = frame is not w.frame or lasti != w.lasti or switches != w.switches
                if moved or _timed_wait(frame):
                    w.since = now
                w.frame, w.lasti, w.switches = frame, lasti, switches
            self._ticked = now

    def report(self) -> tuple[bool, bool, dict]:
        """(live, ready, details)."""
        now = time.monotonic()
        with self._lock:
            loops = {name: {"alive": w.thread.is_alive(), "ready": bool(getattr(w.loop, "ready", True)),
                            "same_place_for": round(now - w.since, 1)}
                     for name, w in self._watched.items()}
            ticking = now - self._ticked < TICK_STALE_AFTER
        live = ticking and all(v["alive"] and v["same_place_for"] < self._stuck_after for v in loops.values())
        ready = live and all(v["ready"] for v in loops.values())
        return live, ready, {"supervisor_ticking": ticking, "loops": loops}


def _context_switches(thread: threading.Thread) -> int | None:
    """How often the kernel has put this thread to sleep or taken the CPU from it (None off Linux):
    a thread blocked for good in one call (a read that never ends, a lock) never changes it."""
    try:
        with open(f"/proc/self/task/{thread.native_id}/status") as status:
            return sum(int(line.split()[1]) for line in status if "ctxt_switches:" in line)
    except (OSError, ValueError, IndexError):
        return None


# pika's I/O loop (SelectConnection, and BlockingConnection on top of it) waits in its poller's
# poll(), bounded by the next timer and by `_PollerBase._MAX_POLL_TIMEOUT` (5 s).
_PIKA_POLLER = os.path.join("pika", "adapters", "select_connection.py")


def _timed_wait(frame) -> bool:
    code = frame.f_code if frame is not None else None
    if code is None:
        return False
    if code.co_name == "poll" and code.co_filename.endswith(_PIKA_POLLER):
        return True
    if code.co_name != "wait" or code.co_filename != threading.__file__:
        return False
    return frame.f_locals.get("timeout") is not None


def serve_health(watch: LoopWatch, host: str, port: int, collectors=()) -> ThreadingHTTPServer:
    """Answer GET /healthz, /readyz and /metrics (Prometheus: this process's metrics plus
    `collectors`, read now) on a daemon thread; returns the server (shutdown() stops it)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 — http.server's naming
            if self.path.split("?")[0] == "/metrics":
                self._answer(200, metrics.CONTENT_TYPE, metrics.exposition(collectors, multiprocess=False))
                return
            live, ready, details = watch.report()
            ok = {"/healthz": live, "/readyz": ready}.get(self.path.split("?")[0])
            if ok is None:
                self.send_error(404)
                return
            body = json.dumps({"status": "ok" if ok else "failing", **details}).encode()
            self._answer(200 if ok else 503, "application/json", body)

        def _answer(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):  # probes every few seconds would drown the worker's log
            pass

    server = _WakeableHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server


class _WakeableHTTPServer(ThreadingHTTPServer):
    """socketserver's serve_forever wakes every poll_interval (0.5 s) to look for shutdown(), and
    shutdown() waits for that look: 2 wake-ups a second of an idle worker (issue 11). Here the
    serving thread sleeps until a probe connects or shutdown() writes to a socket pair it also
    watches, so it never wakes for nothing and shutdown() returns as soon as the loop has left."""

    def __init__(self, *args, **kwargs):
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._served = threading.Event()
        try:
            super().__init__(*args, **kwargs)
        except BaseException:
            self._close_wake_pair()
            raise

    def serve_forever(self, poll_interval: float | None = None) -> None:
        """Serve until shutdown(); `poll_interval` is ignored: nothing here polls."""
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self, selectors.EVENT_READ)
                selector.register(self._wake_reader, selectors.EVENT_READ)
                while True:
                    ready = selector.select()
                    if any(key.fileobj is self._wake_reader for key, _ in ready):
                        return
                    if ready:  # what socketserver's own loop runs (typeshed leaves it out)
                        self._handle_request_noblock()  # type: ignore[attr-defined]
                    self.service_actions()
        finally:
            self._served.set()

    def shutdown(self) -> None:
        """Stop serve_forever and wait until it has returned (as socketserver's shutdown does)."""
        try:
            self._wake_writer.send(b"x")
        except OSError:  # closed by server_close: nothing serves any more
            return
        self._served.wait()

    def server_close(self) -> None:
        super().server_close()
        self._close_wake_pair()

    def _close_wake_pair(self) -> None:
        self._wake_reader.close()
        self._wake_writer.close()
