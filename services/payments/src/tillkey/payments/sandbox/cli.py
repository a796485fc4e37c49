"""`tillkey-sandbox-gateway [serve | migrate]` — the sandbox card gateway process.

It runs on werkzeug's threaded server, not gunicorn, on purpose: the notifier that settles
charges and delivers notifications must run in exactly one process. Under gunicorn every
worker process would start its own notifier, and they would race over the same outbox rows
(double settlements, duplicate notifications). One process with a thread per request is
plenty for a test double, and keeps "one notifier" true by construction.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from werkzeug.serving import make_server

from tillkey.payments.sandbox.app import create_app
from tillkey.payments.sandbox.gateway import Gateway
from tillkey.payments.sandbox.settings import SandboxSettings
from tillkey.payments.sandbox.store import Store
from tillkey.payments.sandbox.worker import Worker
from tillkey.platform.rate_limits import RateLimits

log = logging.getLogger("tillkey.sandbox")


def serve(settings: SandboxSettings) -> int:
    store = Store(settings.database_path)
    store.migrate()  # its own few tables, created if missing: no separate migrate step needed
    worker = Worker(store, settings)
    app = create_app(Gateway(store, settings.settle_delay), on_work=worker.wake,
                     rate_limits=RateLimits.from_env(os.environ))
    server = make_server(settings.host, settings.port, app, threaded=True)
    notifier = threading.Thread(target=worker.run, name="sandbox-notifier", daemon=True)

    def stop(*_args) -> None:
        worker.stop()
        # shutdown() waits for serve_forever to return, so it cannot run on the serving thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    notifier.start()
    log.info("sandbox gateway listening on http://%s:%s (database %s)", settings.host, server.server_port,
             settings.database_path)
    server.serve_forever()
    notifier.join(timeout=settings.notify_timeout + 1)
    log.info("sandbox gateway stopped")
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tillkey-sandbox-gateway",
                                     description="The sandbox card gateway (a test double of a card provider).")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "api", "migrate"],
                        help="serve (default; `api` is an alias) or migrate (create the tables and exit)")
    args = parser.parse_args(argv)
    settings = SandboxSettings.from_env(os.environ)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "migrate":
        Store(settings.database_path).migrate()
        log.info("sandbox gateway tables ready in %s", settings.database_path)
        sys.exit(0)
    sys.exit(serve(settings))
