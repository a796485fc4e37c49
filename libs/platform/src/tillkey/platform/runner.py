"""Process entrypoints shared by every service: `api`, `worker`, `migrate`."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Protocol

from tillkey.platform.pika_logging import quiet_pika_reconnects


class Runnable(Protocol):
    def run(self) -> None: ...
    def stop(self) -> None: ...


def configure_logging() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)
    quiet_pika_reconnects()


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
    watch, health = _health_probe(runnables, by_label)
    log.info("%s worker running: %s", name, ", ".join(runnables))
    while any(t.is_alive() for t in threads):
        done.wait(0.5)
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


def _health_probe(runnables: dict, threads: dict):
    """The worker's /healthz and /readyz on WORKER_HEALTH_PORT (off when unset: `make run`, tests)."""
    from tillkey.platform.config import parse_duration
    from tillkey.platform.worker_health import LoopWatch, serve_health

    port = os.environ.get("WORKER_HEALTH_PORT")
    if not port:
        return None, None
    watch = LoopWatch(runnables, threads, stuck_after=parse_duration(os.environ.get("WORKER_STUCK_AFTER", "120s")))
    return watch, serve_health(watch, os.environ.get("BIND_HOST", "127.0.0.1"), int(port))


def serve_api(app_spec: str, port: int, name: str) -> None:
    """gunicorn with threads: pika is never used from request threads (events go to the outbox)."""
    workers = os.environ.get("WEB_CONCURRENCY", "2")
    threads = os.environ.get("WEB_THREADS", "4")
    args = ["gunicorn", "--bind", f"{os.environ.get('BIND_HOST', '127.0.0.1')}:{port}",
            "--workers", workers, "--threads", threads, "--worker-class", "gthread",
            "--graceful-timeout", "10", "--access-logfile", "-", "--name", f"tillkey-{name}",
            # %(U)s is the path without the query string: order tokens travel as ?token= and are
            # credentials, so they must never reach a log.
            "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms', app_spec]
    os.execvp(sys.executable, [sys.executable, "-m", "gunicorn", *args[1:]])


def migrations_home(package: str) -> Path:
    """The folder of `package` holding its `alembic.ini` and `migrations/`.

    They are package data, found through the import system rather than beside the source tree,
    so `migrate` works the same from a checkout, an editable install and an installed wheel.
    Alembic reads plain files: a package imported from a zip has no such folder, so it is refused.
    """
    home = resources.files(package)
    if not isinstance(home, Path) or not (home / "alembic.ini").is_file():
        raise RuntimeError(f"{package} has no alembic.ini beside it ({home}): install it from a wheel, unzipped")
    return home


def migrate(home: Path, database_url: str) -> None:
    """Upgrade to head with the alembic.ini and migrations/ in `home` (see migrations_home)."""
    from alembic import command
    from alembic.config import Config

    from tillkey.platform.db import normalize_url

    config = Config(str(home / "alembic.ini"))
    config.set_main_option("script_location", str(home / "migrations"))
    config.attributes["database_url"] = normalize_url(database_url)
    command.upgrade(config, "head")


def service_main(name: str, *, settings_from_env: Callable, port_of: Callable, app_spec: str,
                 migrations_home: Path, build_workers: Callable, database_url_of: Callable) -> None:
    """The `tillkey-<service>` command: `api`, `worker` or `migrate`."""
    parser = argparse.ArgumentParser(prog=f"tillkey-{name}")
    parser.add_argument("command", choices=["api", "worker", "migrate"])
    args = parser.parse_args()
    configure_logging()
    settings = settings_from_env(os.environ)
    if args.command == "migrate":
        migrate(migrations_home, database_url_of(settings))
    elif args.command == "api":
        serve_api(app_spec, port_of(settings), name)
    else:
        sys.exit(run_workers(name, build_workers(settings)))
