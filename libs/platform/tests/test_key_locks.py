"""Idempotency keys in use on SQLite: a second holder is refused at once, a killed one frees the key."""
import os
import signal
import subprocess
import sys
import time

from tillkey.platform.db import make_engine
from tillkey.platform.key_locks import key_lock


def test_a_held_key_is_refused_at_once_and_free_again_after(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    with key_lock(engine, "scope\nkey-1") as first:
        started = time.monotonic()
        with key_lock(engine, "scope\nkey-1") as second, key_lock(engine, "scope\nkey-2") as other:
            assert first and not second and other
        assert time.monotonic() - started < 0.5  # no waiting
    with key_lock(engine, "scope\nkey-1") as again:
        assert again


def test_a_killed_holder_leaves_the_key_free(tmp_path):
    database = tmp_path / "shop.db"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import time\nfrom tillkey.platform.db import make_engine\nfrom tillkey.platform.key_locks import key_lock\n"
        f"with key_lock(make_engine('sqlite:///{database}'), 'scope\\nkey') as held:\n"
        "    print(held, flush=True)\n    time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "True"
        engine = make_engine(f"sqlite:///{database}")
        with key_lock(engine, "scope\nkey") as held:
            assert not held
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        with key_lock(engine, "scope\nkey") as held:
            assert held
    finally:
        holder.kill()


def test_postgres_locks_keys_itself():
    engine = make_engine("postgresql://postgres@127.0.0.1:1/none")  # never connected
    with key_lock(engine, "k") as first, key_lock(engine, "k") as second:
        assert first and second
