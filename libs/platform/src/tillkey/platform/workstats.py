"""Per-process work counters (SQL statements, broker messages) for `make bench`.

Off unless `TILLKEY_STATS_DIR` names a folder: then every process keeps a few integer counters
and a daemon thread writes them, about twice a second, to `<dir>/<pid>.json`. The benchmark
reads the files before and after its measured window, so per-order figures need no broker
management plugin and no PostgreSQL extension, and work the same on SQLite.
"""
from __future__ import annotations

import functools
import json
import os
import re
import sys
import threading
from collections import Counter
from pathlib import Path

_counts: Counter = Counter()
_lock = threading.Lock()
_writer: threading.Thread | None = None
_folder: Path | None = None


def enabled() -> bool:
    return bool(os.environ.get("TILLKEY_STATS_DIR"))


# Read once: `count` runs on hot paths (every consumer batch, every relay batch).
_ENABLED = enabled()


def count(name: str, n: int = 1) -> None:
    if not _ENABLED or (_folder is None and not _start()):
        return
    with _lock:
        _counts[name] += n


def count_sql(engine) -> None:
    """Count every statement `engine` runs (one cheap event listener; nothing when disabled)."""
    if not enabled():
        return
    from sqlalchemy import event

    process = _process_name()

    @event.listens_for(engine, "before_cursor_execute")
    def _count(_conn, _cursor, statement, *_args):
        count("sql_statements")
        count(f"sql[{process}] {statement_kind(statement)}")


_KIND = re.compile(r"^\s*(\w+)(?:.*?\b(?:FROM|INTO|UPDATE)\s+\"?(\w+))?", re.IGNORECASE | re.DOTALL)


@functools.lru_cache(maxsize=1024)  # statements repeat (SQLAlchemy caches their text): match each once
def statement_kind(statement: str) -> str:
    """`SELECT orders`, `INSERT inbox`, `COMMIT`: which statements a process runs, for the bench
    (and for the tests that count a hot path's statements)."""
    match = _KIND.match(statement)
    if not match:
        return statement[:30]
    verb, table = match.group(1).upper(), match.group(2)
    if verb == "UPDATE":
        updated = re.match(r"\s*UPDATE\s+\"?(\w+)", statement, re.IGNORECASE)
        if updated is not None:  # None only for a bare `UPDATE` with no table after it
            table = updated.group(1)
    return f"{verb} {table}" if table else verb


def _process_name() -> str:
    """`orders-api`, `webhooks-worker`: the command and its first argument."""
    if "--name" in sys.argv[:-1]:  # a gunicorn API: `--name tillkey-orders`
        return sys.argv[sys.argv.index("--name") + 1].removeprefix("tillkey-") + "-api"
    name = os.path.basename(sys.argv[0]).removeprefix("tillkey-")
    kind = next((a for a in sys.argv[1:] if not a.startswith("-")), "")
    return f"{name}-{kind}" if kind else name


def _start() -> bool:
    global _writer, _folder
    folder = os.environ.get("TILLKEY_STATS_DIR")
    if not folder:
        return False
    with _lock:
        if _writer is None or not _writer.is_alive():  # none yet, or this is a forked child
            _folder = Path(folder)
            _folder.mkdir(parents=True, exist_ok=True)
            _writer = threading.Thread(target=_write_forever, args=(_folder,), name="workstats", daemon=True)
            _writer.start()
    return True


def _write_forever(folder: Path) -> None:
    stop = threading.Event()
    written: dict | None = None
    while not stop.wait(0.5):
        written = write_if_changed(folder, written)


def write_if_changed(folder: Path, written: dict | None) -> dict:
    """Write this process's counts unless they are `written` (what the last call wrote); returns
    what the file now says. An idle process writes nothing, so the bench's idle figure is the
    platform's and not this counter's (0.17 ms per write, 18 processes, twice a second)."""
    with _lock:
        snapshot = dict(_counts)
    if snapshot == written:
        return snapshot
    # A gunicorn worker is forked from its master: the pid is read at each write, not at start.
    path = folder / f"{os.getpid()}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(snapshot))
    tmp.replace(path)
    return snapshot
