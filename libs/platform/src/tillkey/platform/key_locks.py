""""This Idempotency-Key is in use right now" on SQLite, across the API's processes, without waiting.

PostgreSQL answers it with a transaction-level advisory lock. SQLite has none, and a second
writer there waits on the first one's transaction instead of hearing "409, still running" as
docs/integration.md, "Idempotency", says. An exclusive `flock` on a file beside the database does
it: not blocking, shared by
every process on the machine (as the SQLite file is), and released by the kernel when the holder
closes it or dies, so a crashed request never keeps a key (issue 18). Keys share a fixed set of
lock files by hash (no file per key to clean up); two different keys meeting in one bucket at the
same instant give a needless 409 with `Retry-After: 1`, never a wrong answer.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import Engine

BUCKETS = 4096


def _folder(engine: Engine) -> Path | None:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".keys")


@contextmanager
def key_lock(engine: Engine, name: str) -> Iterator[bool]:
    """True while this request holds `name` (always, where the database locks keys itself);
    False at once when another request holds it."""
    folder = _folder(engine)
    if folder is None:
        yield True
        return
    folder.mkdir(exist_ok=True)
    bucket = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") % BUCKETS
    fd = os.open(folder / f"{bucket}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock
