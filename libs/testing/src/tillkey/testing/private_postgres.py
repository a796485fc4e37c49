"""A PostgreSQL server of a test's own, so it can be restarted mid-flow (`-m immediate`) without
touching the machine's shared server that other test runs and CI use: a restart of the shared one
cut every other test's connections (CI saw unrelated suites fail with "server closed the connection
unexpectedly" while a crash test ran beside them). The chaos suite and every test that restarts
PostgreSQL use one."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tillkey.testing.ports import free_port


def _bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
    if not found:
        raise RuntimeError(f"no {tool} under /usr/lib/postgresql/*/bin: install PostgreSQL's server package")
    return found[-1]


class PrivatePostgres:
    """`initdb` into a temporary directory, one port, trust auth on loopback, fsync off (a test server)."""

    def __init__(self):
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="tillkey-chaos-pg-"))
        self.data, self.sockets = self.base / "data", self.base / "run"
        self.log = self.base / "postgres.log"
        # The server refuses to run as root: as root, it runs as the `postgres` user.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def is_up(self) -> bool:
        done = subprocess.run([_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"], timeout=10)
        return done.returncode == 0

    def start(self) -> PrivatePostgres:
        self.sockets.mkdir(parents=True)
        if self._as:
            user = pwd.getpwnam("postgres")
            for path in (self.base, self.sockets):
                os.chown(path, user.pw_uid, user.pw_gid)
        self._run(_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        # fsync off: a PostgreSQL crash keeps what it wrote in the OS cache, only a machine crash
        # would not. synchronous_commit stays on: off, a crash forgets commits already answered
        # (a consumer that acked after its commit would lose the message, the server's fault).
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("fsync = off\nfull_page_writes = off\nmax_connections = 300\n")
        self._pg_ctl("start", "-w")
        return self

    def restart_immediate(self) -> None:
        """What a crash and a supervisor's restart do: no checkpoint, every connection cut."""
        self._pg_ctl("restart", "-m", "immediate", "-w")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.base, ignore_errors=True)

    def _pg_ctl(self, *args: str) -> None:
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                  "-o", f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1", *args)

    def _run(self, *argv: str) -> None:
        done = subprocess.run([*self._as, *argv], capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{' '.join(argv[:2])} failed: {done.stdout[-1500:]} {done.stderr[-1500:]}")
