"""One service's API as `tillkey-<service> api` runs it (a real gunicorn), to kill and start again."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tillkey.devtools.launcher import free_port

BIN = Path(sys.executable).parent


class ApiProcess:
    def __init__(self, service: str, env: dict[str, str], log: Path, workers: int = 1):
        self.service, self.log = service, log
        self.port = free_port()
        self.env = {**os.environ, **env, f"{service.upper()}_PORT": str(self.port), "WEB_CONCURRENCY": str(workers),
                    "LOG_LEVEL": "WARNING"}
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    def migrate(self) -> None:
        subprocess.run([BIN / f"tillkey-{self.service}", "migrate"], env=self.env, check=True,
                       capture_output=True, timeout=120)

    def start(self, timeout: float = 90) -> ApiProcess:
        out = open(self.log, "ab")
        # Its own process group: SIGKILL reaches the gunicorn master and its worker at once.
        self.proc = subprocess.Popen([BIN / f"tillkey-{self.service}", "api"], env=self.env, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/healthz", timeout=5).ok:
                    return self
            except requests.RequestException:  # not listening yet, or a worker still booting
                time.sleep(0.1)
        self.kill()  # the fixture never gets to: no gunicorn left behind
        raise AssertionError(f"{self.service} API did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL, no goodbye: what a crash or an OOM kill does mid-request."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
