"""gunicorn settings every API shares (`-c python:tillkey.platform.gunicorn_config`); the command
line in runner.serve_api sets the rest."""
from __future__ import annotations

import os

# LOG_FORMAT for gunicorn's own lines too, and the app's loggers set up once in the master.
logger_class = "tillkey.platform.logs.GunicornLogger"


def post_fork(server, _worker) -> None:
    """Tracing starts in each worker (its exporter thread would not survive the fork); off unless
    OTEL_EXPORTER_OTLP_ENDPOINT is set."""
    from tillkey.platform import tracing

    tracing.setup((server.cfg.proc_name or "tillkey").removeprefix("tillkey-"), "api")


def child_exit(_server, worker) -> None:
    """A worker that died (or was recycled): prometheus_client drops its live-gauge files so they no
    longer count; its counters stay in the sum, as Prometheus expects of a counter."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
