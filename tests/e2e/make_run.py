"""Starting `make run` the way a developer does, isolated: its own ports, data folder and vhost,
so a test never collides with a `make run` already going on the same machine."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tillkey.devtools.launcher import free_port
from tillkey.devtools.topology import DEFAULT_PORTS

ROOT = Path(__file__).resolve().parents[2]
READY_LINE = "Tillkey is running."
# What a developer's shell may export and must not leak into the test's own platform.
KEEP_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER")


class MakeRun:
    def __init__(self, data_dir: Path, amqp_url: str, smtp_port: int | None = None, argv: list[str] | None = None):
        self.data_dir = data_dir
        self.ports = {name: free_port() for name in DEFAULT_PORTS}
        if smtp_port is not None:
            self.ports["smtp"] = smtp_port
        self.env = {k: v for k, v in os.environ.items() if k in KEEP_ENV}
        self.env.update({f"{name.upper()}_PORT": str(port) for name, port in self.ports.items()})
        self.env.update(AMQP_URL=amqp_url, RUN_DATA_DIR=str(data_dir), SMTP_HOST="127.0.0.1",
                        WEB_CONCURRENCY="1", PYTHONUNBUFFERED="1")
        self.argv = argv or [sys.executable, "-m", "tillkey.devtools.run"]
        self.output = data_dir / "make-run.out"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> MakeRun:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.output, "wb")
        # Its own session: the test can clean up after itself whatever happens to the run.
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while READY_LINE not in self.text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"make run did not come up:\n{self.text()[-6000:]}")
            time.sleep(0.5)
        return self

    def text(self) -> str:
        return self.output.read_text(errors="replace") if self.output.exists() else ""

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def demo(self) -> dict:
        return json.loads((self.data_dir / "demo.json").read_text())

    def descendants(self) -> set[int]:
        """Every process started under the run, whatever session it moved to (honcho's children
        get their own)."""
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        found, todo = set(), [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.add(pid)
            todo.extend(children.get(pid, []))
        return found

    def stop(self) -> None:
        """Clean-up whatever the test did: the whole tree, however it is left."""
        if self.proc is None:
            return
        for pid in self.descendants():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(10)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"   # a zombie holds no port and runs nothing; its parent reaps it


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as a server binding it would
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False
