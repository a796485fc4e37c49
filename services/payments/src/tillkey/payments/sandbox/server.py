"""The sandbox gateway's HTTP server: gunicorn's gthread worker, exactly one worker process.

Why gunicorn and not werkzeug's development server: werkzeug answered every request with
`Connection: close` and a new thread, so payments opened a TCP connection per tokenize and per
charge (issue 11: the sandbox cost more CPU per order than RabbitMQ). gthread keeps connections
alive and serves them from a fixed pool of threads.

Why exactly one worker: the notifier that settles charges and delivers notifications must run in
exactly one process, or two would race over the same rows (double settlements, duplicate
notifications), and the in-memory rate limit counts are exact only in one process. So:
- the worker count is fixed at 1 (WEB_CONCURRENCY and GUNICORN_CMD_ARGS are not read);
- the notifier starts in that worker (`post_worker_init`) and is stopped and joined when it exits
  (`worker_exit`: SIGTERM or SIGINT to the process);
- the signals that would run a second worker beside the first (HUP: reload, TTIN: one more worker,
  USR2: a new master) are ignored;
- the worker dies with the master (PR_SET_PDEATHSIG): a SIGKILL of the process, as a crash or a
  test does, stops the notifier at once, as it did when all of it was one process.
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import threading
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.glogging import Logger

from tillkey.payments.sandbox.app import create_app
from tillkey.payments.sandbox.gateway import Gateway
from tillkey.payments.sandbox.settings import SandboxSettings
from tillkey.payments.sandbox.store import Store
from tillkey.payments.sandbox.worker import Worker
from tillkey.platform.rate_limits import RateLimits

log = logging.getLogger("tillkey.sandbox")

# Request threads of the one worker. A kept-alive connection waiting for its next request holds
# no thread (gthread parks it in its poller), and SQLite takes one writer at a time anyway.
THREADS = 8
# How long an idle kept connection stays open. Longer than the callers' pauses between calls, so
# payments rarely finds its kept connection just closed by us (it would retry, but a retry waits).
KEEPALIVE_SECONDS = 75
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class SandboxServer(BaseApplication):
    def __init__(self, settings: SandboxSettings):
        self.settings = settings
        # Read here, in the master: a bad value stops the command at once, not a booting worker.
        self.rate_limits = RateLimits.from_env(os.environ)
        self.worker: Worker | None = None
        self.notifier: threading.Thread | None = None
        super().__init__(prog="tillkey-sandbox-gateway")

    def load_config(self) -> None:
        s = self.settings
        host = f"[{s.host}]" if ":" in s.host else s.host  # an IPv6 address, as gunicorn spells it
        for key, value in {
            "bind": [f"{host}:{s.port}"], "workers": 1, "worker_class": "gthread", "threads": THREADS,
            "keepalive": KEEPALIVE_SECONDS, "proc_name": "tillkey-sandbox-gateway",
            "loglevel": s.log_level.lower(), "logger_class": _SandboxLogger,
            # SIGTERM: the worker finishes its requests, then worker_exit joins the notifier, whose
            # notification posts may take up to notify_timeout.
            "graceful_timeout": int(s.notify_timeout) + 5,
            "when_ready": self._ready, "post_fork": _die_with_the_master,
            "post_worker_init": self._start_notifier, "worker_exit": self._stop_notifier,
        }.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """In the worker process, after the fork: no SQLite connection or thread crosses it."""
        store = Store(self.settings.database_path)
        self.worker = Worker(store, self.settings)
        return create_app(Gateway(store, self.settings.settle_delay), on_work=self.worker.wake,
                          rate_limits=self.rate_limits)

    def run(self) -> None:
        _OneWorkerArbiter(self).run()

    def _ready(self, server: Arbiter) -> None:
        port = server.LISTENERS[0].sock.getsockname()[1]  # the real one when SANDBOX_PORT is 0
        log.info("sandbox gateway listening on http://%s:%s (database %s)", self.settings.host, port,
                 self.settings.database_path)

    def _start_notifier(self, _worker: Any) -> None:
        assert self.worker is not None  # load() ran before this hook
        self.notifier = threading.Thread(target=self.worker.run, name="sandbox-notifier", daemon=True)
        self.notifier.start()

    def _stop_notifier(self, _server: Arbiter, _worker: Any) -> None:
        if self.worker is None or self.notifier is None:
            return
        self.worker.stop()
        self.notifier.join(timeout=self.settings.notify_timeout + 1)
        log.info("sandbox gateway stopped")


class _SandboxLogger(Logger):
    """gunicorn's own lines (start, workers, signals) in the format of the sandbox's (cli.py)."""

    error_fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    datefmt = None


class _OneWorkerArbiter(Arbiter):
    """gunicorn's master, without the signals that would start a second worker (and notifier)."""

    def handle_hup(self) -> None:
        self.log.warning("SIGHUP ignored: a reload would run two notifiers for a while; restart instead")

    def handle_ttin(self) -> None:
        self.log.warning("SIGTTIN ignored: the sandbox gateway runs exactly one worker")

    def handle_usr2(self) -> None:
        self.log.warning("SIGUSR2 ignored: a second master would run a second notifier")


def _die_with_the_master(server: Arbiter, _worker: Any) -> None:
    """Linux only; elsewhere an orphaned worker notices within about a second and stops."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != server.pid:  # the master died before prctl took effect
        os._exit(1)
