"""The merchant's webhook receiver for `make bench`: its own process, so its CPU counts as the
platform's side of the bill (as a merchant's server would), not the load generator's.

Answers 204 at once and appends `arrival_time webhook_id type order_id` per request to a file the
benchmark reads; HTTP/1.1 keep-alive, so a sender that reuses connections can.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = open(args.out, "a", buffering=1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            at = time.time()
            try:
                event = json.loads(body)
                order_id = (event.get("data") or {}).get("order_id") or "-"
                out.write(f"{at:.6f} {self.headers.get('webhook-id')} {event.get('type')} {order_id}\n")
            except ValueError:
                out.write(f"{at:.6f} - malformed -\n")
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
