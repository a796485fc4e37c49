"""Process entrypoints shared by every service: `api`, `worker`, `migrate`."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from tillkey.platform.logs import configure_logging
from tillkey.platform.metrics import MULTIPROC_ENV, prepare_multiprocess_dir
from tillkey.platform.migrations import migrate, migrations_home, pending

__all__ = ["migrate", "migrations_home", "run_workers", "service_main"]  # migrate: the tests' import
# How often the supervisor samples its loops for the health probe (a loop's thread dying wakes it
# at once). Each tick reads every loop thread's frame and /proc status: every 2 s keeps an idle
# worker's supervisor cheap (issue 11's idle figure) and far inside TICK_STALE_AFTER.
SUPERVISOR_TICK = 2.0


class Runnable(Protocol):
    def run(self) -> None: ...
    def stop(self) -> None: ...


def run_workers(name: str, runnables: dict[str, Runnable]) -> int:
    """Run each loop on its own thread (pika: one connection per thread) until SIGTERM/SIGINT.

    A loop that dies stops the others and the process exits non-zero, so the process manager
    notices instead of a half-working worker lingering.
    """
    log = logging.getLogger(f"tillkey.{name}.worker")
    failed = threading.Event()
    done = threading.Event()

    def guard(label: str, loop: Runnable) -> None:
        try:
            loop.run()
        except BaseException:  # noqa: BLE001
            log.exception("%s crashed", label)
            failed.set()
        finally:
            done.set()

    def stop_all(*_args) -> None:
        for loop in runnables.values():
            loop.stop()

    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    by_label = {label: threading.Thread(target=guard, args=(label, loop), name=label, daemon=True)
                for label, loop in runnables.items()}
    threads = list(by_label.values())
    for t in threads:
        t.start()
    watch, health = _health_probe(name, runnables, by_label)
    log.info("%s worker running: %s", name, ", ".join(runnables))
    while any(t.is_alive() for t in threads):
        done.wait(SUPERVISOR_TICK)
        done.clear()
        if watch is not None:
            watch.tick()
        if failed.is_set():
            stop_all()
    if health is not None:
        health.shutdown()
    for t in threads:
        t.join(timeout=10)
    return 1 if failed.is_set() else 0


def _health_probe(name: str, runnables: dict, threads: dict):
    """The worker's /healthz, /readyz and /metrics on <SERVICE>_METRICS_PORT, else WORKER_HEALTH_PORT
    (off when neither is set: tests). One port per process: `make run` gives each worker its own
    <SERVICE>_METRICS_PORT; in a pod WORKER_HEALTH_PORT is the same for every service."""
    from tillkey.platform.config import parse_duration
    from tillkey.platform.worker_health import LoopWatch, serve_health

    port = os.environ.get(f"{name.upper()}_METRICS_PORT") or os.environ.get("WORKER_HEALTH_PORT")
    if not port:
        return None, None
    watch = LoopWatch(runnables, threads, stuck_after=parse_duration(os.environ.get("WORKER_STUCK_AFTER", "120s")))
    # Each loop may offer gauges read at scrape time (the relay its outbox backlog, the consumer
    # its queue depths).
    collectors = [c for loop in runnables.values() for c in getattr(loop, "metrics_collectors", ())]
    return watch, serve_health(watch, os.environ.get("BIND_HOST", "127.0.0.1"), int(port), collectors)


def serve_api(app_spec: str, port: int, name: str) -> None:
    """gunicorn with threads: pika is never used from request threads (events go to the outbox)."""
    workers = os.environ.get("WEB_CONCURRENCY", "2")
    threads = os.environ.get("WEB_THREADS", "4")
    # Metrics of several gunicorn workers: prometheus_client reads this before the app is imported.
    # A folder per API, emptied at start, so two APIs (make run) never add up each other's counts.
    base = os.environ.get(MULTIPROC_ENV) or tempfile.gettempdir()
    os.environ[MULTIPROC_ENV] = folder = os.path.join(base, f"tillkey-metrics-{name}-{port}")
    prepare_multiprocess_dir(folder)
    args = ["gunicorn", "-c", "python:tillkey.platform.gunicorn_config",
            "--bind", f"{os.environ.get('BIND_HOST', '127.0.0.1')}:{port}",
            "--workers", workers, "--threads", threads, "--worker-class", "gthread",
            "--graceful-timeout", "10", "--access-logfile", "-", "--name", f"tillkey-{name}",
            # %(U)s is the path without the query string: order tokens travel as ?token= and are
            # credentials, so they must never reach a log.
            "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms %({x-request-id}o)s', app_spec]
    os.execvp(sys.executable, [sys.executable, "-m", "gunicorn", *args[1:]])


def service_main(name: str, *, settings_from_env: Callable, port_of: Callable, app_spec: str,
                 migrations_home: Path, build_workers: Callable, database_url_of: Callable) -> None:
    """The `tillkey-<service>` command: `api`, `worker` or `migrate`."""
    parser = argparse.ArgumentParser(prog=f"tillkey-{name}")
    parser.add_argument("command", choices=["api", "worker", "migrate"])
    parser.add_argument("--check", action="store_true",
                        help="migrate: apply nothing; exit 0 if the database is current, 3 if migrations are pending")
    parser.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                        help="with --check: keep checking (every 2 s, errors included) for up to this long")
    args = parser.parse_args()
    configure_logging(name, args.command)
    if args.command == "worker":
        from tillkey.platform import tracing

        tracing.setup(name, "worker")  # off unless OTEL_EXPORTER_OTLP_ENDPOINT is set
    settings = settings_from_env(os.environ)
    if args.command == "migrate" and args.check:
        sys.exit(_check_migrations(name, migrations_home, database_url_of(settings), args.wait))
    if args.command == "migrate":
        migrate(migrations_home, database_url_of(settings))
    elif args.command == "api":
        serve_api(app_spec, port_of(settings), name)
    else:
        sys.exit(run_workers(name, build_workers(settings)))


def _check_migrations(name: str, home: Path, database_url: str, wait: float) -> int:
    """0 once the database has every head; 3 if it still lacks some when `wait` runs out.
    A new pod waits here (init container) while the migration Job runs, instead of migrating."""
    log = logging.getLogger(f"tillkey.{name}")
    deadline = time.monotonic() + wait
    while True:
        try:
            missing = pending(home, database_url)
        except Exception as exc:  # noqa: BLE001 — the database may not be up yet: keep waiting
            missing = {f"(database unreachable: {type(exc).__name__})"}
        if not missing:
            return 0
        if time.monotonic() >= deadline:
            log.warning("migrations pending: the database lacks %s", ", ".join(sorted(missing)))
            return 3
        time.sleep(2)
