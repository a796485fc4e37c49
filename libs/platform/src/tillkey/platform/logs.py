"""Log setup of every process: readable text (default, `make run`) or one JSON object per line
(`LOG_FORMAT=json`, for a log collector), both carrying the request and correlation ids.

Nothing here adds log lines: it only shapes the ones the code writes. Personal data, tokens and
card data stay out because the code never puts them in a message, and gunicorn's access line logs
the path without its query string (order tokens travel as `?token=`); tests/e2e checks both.
"""
from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime

from gunicorn.glogging import Logger as _GunicornLogger

from tillkey.platform import correlation
from tillkey.platform.pika_logging import quiet_pika_reconnects

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# gunicorn's access atoms kept in a JSON access line: the path without its query (`U`), never `r`/`q`.
_ACCESS_FIELDS = {"m": "method", "U": "path", "s": "status", "M": "duration_ms", "b": "bytes", "h": "remote"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str, kind: str):
        super().__init__()
        self._static = {"service": service, "process": kind}

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname, **self._static, "logger": record.name}
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            atoms = record.args
            line["message"] = "request"
            line.update({key: atoms.get(atom) for atom, key in _ACCESS_FIELDS.items()})
        else:
            line["message"] = record.getMessage()
        # gunicorn writes the access line on the request's thread, so the request's ids are still bound.
        line.update((k, v) for k, v in correlation.current()._asdict().items() if v)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    """The readable default, with the correlation id at the end of a line written while one is bound."""

    def __init__(self):
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ids = correlation.current()
        return f"{text} [correlation_id={ids.correlation_id}]" if ids.correlation_id else text


def make_formatter(service: str, kind: str) -> logging.Formatter:
    return JsonFormatter(service, kind) if os.environ.get("LOG_FORMAT", "text") == "json" else TextFormatter()


class _MarkedHandler(logging.StreamHandler):
    """The handler configure_logging installs; its `tillkey` mark makes a second call find it."""

    tillkey = True


def configure_logging(service: str = "tillkey", kind: str = "cli") -> None:
    """The root logger writes to stderr in LOG_FORMAT at LOG_LEVEL (idempotent)."""
    root = logging.getLogger()
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO"))
    handler = next((h for h in root.handlers if getattr(h, "tillkey", False)), None)
    if handler is None:
        handler = _MarkedHandler(sys.stderr)
        root.addHandler(handler)
    handler.setFormatter(make_formatter(service, kind))
    logging.getLogger("pika").setLevel(logging.WARNING)
    quiet_pika_reconnects()


class GunicornLogger(_GunicornLogger):
    """gunicorn's logger (`--logger-class`): its error and access lines in LOG_FORMAT, and the app's
    own loggers configured in the master, so every forked worker inherits them."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        service = (cfg.proc_name or "tillkey").removeprefix("tillkey-")
        configure_logging(service, "api")
        formatter = make_formatter(service, "api")
        if isinstance(formatter, JsonFormatter):
            for handler in (*self.error_log.handlers, *self.access_log.handlers):
                handler.setFormatter(formatter)
