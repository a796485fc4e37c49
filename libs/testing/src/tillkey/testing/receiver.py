"""A real HTTP server playing the merchant's side (webhook receiver, license web service)."""
from __future__ import annotations

import json
import socket
import sys
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
    peer: tuple | None = None  # the client's (address, port): one per TCP connection

    def json(self):
        return json.loads(self.body)


# A responder gets the request and answers (status, headers, body).
Responder = Callable[[Received], tuple[int, dict[str, str], bytes]]


def ok_responder(_req: Received) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json"}, b'{"ok": true}'


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A client closing its end mid-answer (it read what it wanted) is no error of the receiver.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Receiver:
    """`with Receiver() as r: ... r.url ... r.wait_for(lambda reqs: ...)`.

    `keep_alive=True` answers in HTTP/1.1 and keeps connections open between requests (as most
    merchants' servers do); `connections()` counts them and `drop_connections()` closes them from the
    server side, as a server's keep-alive timeout or restart would.
    """

    def __init__(self, responder: Responder = ok_responder, *, keep_alive: bool = False):
        self.responder = responder
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            if keep_alive:
                protocol_version = "HTTP/1.1"
                # Headers and body go out in two writes: with Nagle, the body would wait for the
                # client's delayed ACK (40 ms) on a kept connection. Servers in production set this too.
                disable_nagle_algorithm = True

            def log_message(self, *_args):
                pass

            def setup(self):
                super().setup()
                with receiver._lock:
                    receiver._open.add(self.connection)

            def finish(self):
                with receiver._lock:
                    receiver._open.discard(self.connection)
                super().finish()

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                req = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time(),
                               self.command, tuple(self.client_address))
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

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
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
        self.drop_connections()

    def connections(self) -> int:
        """How many distinct client connections the requests so far came over."""
        return len({r.peer for r in self.snapshot()})

    def drop_connections(self) -> None:
        """Close every open client connection from the server's side."""
        with self._lock:
            conns = list(self._open)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already gone

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
