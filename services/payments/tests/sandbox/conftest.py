"""The sandbox gateway as a real process, a real notification receiver, and the adapter over them."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from tillkey.contracts.signing import new_secret
from tillkey.payments.adapters.sandbox_gateway import SandboxGateway
from tillkey.testing.receiver import Receiver

SANDBOX_BIN = Path(sys.executable).parent / "tillkey-sandbox-gateway"
NOTIFY_PATH = "/v1/gateways/sandbox/notifications"
TEST_CARDS = ("4242424242424242", "4000000000000002", "4000000000009995", "4000000000000119",
              "4000000000005126")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SandboxProcess:
    """`tillkey-sandbox-gateway` on a free port with its own database file and log."""

    def __init__(self, directory: Path, secret: str, **env: str):
        self.directory = directory
        self.secret = secret
        self.db_path = directory / "sandbox.db"
        self.log_path = directory / "sandbox.log"
        self.port = free_port()
        self.env = {**os.environ, "SANDBOX_PORT": str(self.port), "SANDBOX_DATABASE_URL": f"sqlite:///{self.db_path}",
                    "SANDBOX_GATEWAY_SECRET": secret, "SANDBOX_SETTLE_DELAY": "100ms",
                    "SANDBOX_NOTIFY_RETRY_SCHEDULE": "300ms", "SANDBOX_NOTIFY_TIMEOUT": "3s",
                    "SANDBOX_POLL_INTERVAL": "50ms", "LOG_LEVEL": "DEBUG", **env}
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SandboxProcess:
        log = open(self.log_path, "ab")  # noqa: SIM115 — handed to the child, closed with it
        self.proc = subprocess.Popen([str(SANDBOX_BIN)], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the sandbox exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).ok:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the sandbox did not answer /healthz within 20 s:\n{self.log_text()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)

    def restart(self, sig: int = signal.SIGKILL, **env: str) -> SandboxProcess:
        """Stop (by default as a crash would) and start again on the same port and database."""
        self.stop(sig)
        self.env.update(env)
        return self.start()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture(scope="session")
def sandbox_secret() -> str:
    return new_secret()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, sandbox_secret):
    """One shared process per module for the tests that do not stop it. Not per session: its
    notifier goes on retrying a notification whose test's receiver has closed, and a later suite's
    receiver on the same (reused) port got a stray `charge.succeeded` (CI, webhooks' ping test)."""
    proc = SandboxProcess(tmp_path_factory.mktemp("sandbox"), sandbox_secret).start()
    yield proc
    proc.stop()


@pytest.fixture
def make_sandbox(tmp_path, sandbox_secret):
    """Private processes for tests that kill, restart or inspect one."""
    started: list[SandboxProcess] = []

    def make(directory: Path | None = None, **env: str) -> SandboxProcess:
        proc = SandboxProcess(directory or tmp_path, sandbox_secret, **env)
        started.append(proc)
        return proc

    yield make
    for proc in started:
        proc.stop(signal.SIGKILL)


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def gateway(sandbox, sandbox_secret) -> SandboxGateway:
    return SandboxGateway(sandbox.url, sandbox_secret, attempts=4, backoff=0.05, max_backoff=0.2)


class Helpers:
    """Shared helpers, as a fixture: test modules are imported with importlib, not as a package."""

    TEST_CARDS = TEST_CARDS

    @staticmethod
    def notify_url(receiver: Receiver) -> str:
        return receiver.url + NOTIFY_PATH


    @staticmethod
    def new_payment_id() -> str:
        return "pay_" + uuid.uuid4().hex


    @staticmethod
    def tokenize(base_url: str, number: str = "4242424242424242", **overrides) -> str:
        body = {"number": number, "exp_month": 12, "exp_year": time.gmtime().tm_year + 3, "cvc": "123", **overrides}
        resp = requests.post(base_url + "/v1/tokens", json=body, timeout=5)
        assert resp.status_code == 201, resp.text
        return resp.json()["payment_token"]


    @staticmethod
    def notifications(receiver: Receiver, charge_id: str, type_: str | None = None) -> list:
        return [r for r in receiver.snapshot()
                if r.json()["data"]["charge_id"] == charge_id and (type_ is None or r.json()["type"] == type_)]


    @staticmethod
    def wait_notification(receiver: Receiver, charge_id: str, type_: str | None = None, timeout: float = 10):
        return receiver.wait_for(lambda _reqs: Helpers.notifications(receiver, charge_id, type_), timeout)[0]


@pytest.fixture(scope="session")
def h() -> type[Helpers]:
    return Helpers
