"""The demo merchant's webhook receiver for `make run`: verifies each webhook and prints it.

It plays the merchant's side, so it verifies with the `standardwebhooks` library, exactly as a
merchant would. `GET /events` lists what arrived (newest last).
"""
from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks import Webhook

_events: list[dict] = []
_lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    secret_file: Path

    def log_message(self, *_args) -> None:  # one line per webhook is printed below instead
        pass

    def do_GET(self) -> None:
        with _lock:
            body = json.dumps(_events).encode()
        self._answer(200, body)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        secret = self.secret_file.read_text().strip() if self.secret_file.exists() else ""
        try:
            payload = Webhook(secret).verify(raw, {k.lower(): v for k, v in self.headers.items()})
        except Exception as exc:  # noqa: BLE001 — any verification failure is a 400
            print(f"demo-receiver: REJECTED webhook ({exc})", flush=True)
            self._answer(400, b'{"error": "bad signature"}')
            return
        with _lock:
            _events.append(payload)
        data = payload.get("data", {})
        print(f"demo-receiver: {payload['type']} #{payload.get('sequence')} order={data.get('order_id')} "
              f"(signature verified)", flush=True)
        self._answer(200, b'{"ok": true}')

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--secret-file", type=Path, required=True)
    args = parser.parse_args()
    Handler.secret_file = args.secret_file
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"demo-receiver: listening on http://127.0.0.1:{args.port}/webhooks", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
