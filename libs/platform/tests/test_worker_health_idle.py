"""The health server sleeps until a probe comes or shutdown() wakes it: no wake-ups while idle and
a prompt shutdown (issue 11; socketserver's own loop wakes every 0.5 s and shutdown waits for it)."""
from __future__ import annotations

import threading
import time
import urllib.request

from tillkey.platform.worker_health import LoopWatch, serve_health
from tillkey.testing.threads import wake_ups


class Idle:
    ready = True

    def __init__(self):
        self.done = threading.Event()

    def run(self):
        self.done.wait(60)


def health_server():
    loop = Idle()
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    before = set(threading.enumerate())
    server = serve_health(LoopWatch({"loop": loop}, {"loop": thread}, stuck_after=60), "127.0.0.1", 0)
    serving = [t for t in threading.enumerate() if t not in before and t.name == "health"]
    return server, serving[0], loop


def get(port: int, path: str) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return response.status


def test_shutdown_returns_at_once_after_serving_probes():
    for _ in range(3):  # socketserver's loop would keep shutdown() waiting up to 0.5 s each time
        server, serving, loop = health_server()
        try:
            assert get(server.server_address[1], "/healthz") == 200
            time.sleep(0.05)
            started = time.monotonic()
            server.shutdown()
            assert time.monotonic() - started < 0.1
            serving.join(1)
            assert not serving.is_alive()
            server.shutdown()  # a second shutdown() returns too
        finally:
            server.server_close()
            loop.done.set()


def test_an_idle_health_server_never_wakes_up():
    server, serving, loop = health_server()
    try:
        assert get(server.server_address[1], "/readyz") == 200
        time.sleep(0.1)
        before = wake_ups(serving)
        time.sleep(1.5)
        assert wake_ups(serving) == before
        assert get(server.server_address[1], "/healthz") == 200  # and still answers
    finally:
        server.shutdown()
        server.server_close()
        loop.done.set()
