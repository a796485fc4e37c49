"""A real HTTP server playing the merchant's side (webhook receiver, license web service)."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    method: str = "POST"

    def json(self):
        return json.loads(self.body)


# A responder gets the request and answers (status, headers, body).
Responder = Callable[[Received], tuple[int, dict[str, str], bytes]]


def ok_responder(_req: Received) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json"}, b'{"ok": true}'


class Receiver:
    """`with Receiver() as r: ... r.url ... r.wait_for(lambda reqs: ...)`."""

    def __init__(self, responder: Responder = ok_responder):
        self.responder = responder
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                req = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time(),
                               self.command)
                with receiver._lock:
                    receiver.requests.append(req)
                status, headers, payload = receiver.responder(req)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            # The same responder answers every method (a merchant's API playing more than webhooks).
            do_GET = do_PUT = do_PATCH = do_DELETE = do_POST

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "Receiver":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.requests)

    def wait_for(self, predicate: Callable[[list[Received]], object], timeout: float = 15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate(self.snapshot())
            if result:
                return result
            time.sleep(0.05)
        raise AssertionError(f"the receiver did not get what was expected within {timeout}s; "
                             f"it got {len(self.snapshot())} request(s): "
                             f"{[r.body[:200] for r in self.snapshot()]}")
