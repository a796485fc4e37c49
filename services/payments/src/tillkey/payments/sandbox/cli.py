"""`tillkey-sandbox-gateway [serve | migrate]` — the sandbox card gateway process.

It serves on gunicorn's gthread worker with kept connections, in exactly one worker process: the
notifier that settles charges and delivers notifications must run exactly once. server.py says how
that stays true.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

from tillkey.payments.sandbox.settings import SandboxSettings
from tillkey.payments.sandbox.store import Store

log = logging.getLogger("tillkey.sandbox")


def serve(settings: SandboxSettings) -> int:
    from tillkey.payments.sandbox.server import SandboxServer  # gunicorn: only when serving

    # Its own few tables, created if missing (no separate migrate step needed), before the worker
    # starts; the connection is closed before the fork.
    Store(settings.database_path).migrate()
    SandboxServer(settings).run()
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
