"""Starts the whole platform as `make run` does — for the end-to-end tests (and reused by run.py)."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pika
import requests

from tillkey.devtools.topology import SERVICES, PlatformConfig, migrate_commands, processes
from tillkey.platform.broker_addresses import broker_parameters
from tillkey.testing import ports

# Queues that must exist before the first event is published (their consumers bind order.created).
CONSUMING_SERVICES = ("orders", "payments", "fulfillment", "notifications", "webhooks")


free_port = ports.free_port  # below the ephemeral range: the processes bind it seconds later


def wait_until(check, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # noqa: BLE001 — keep polling until the deadline
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_error!r})")


class Platform:
    """The real processes of every service, with their logs in `config.data_dir / 'logs'`."""

    def __init__(self, config: PlatformConfig, env_overrides_win: bool = True):
        self.config = config
        self.log_dir = config.data_dir / "logs"
        self.procs: dict[str, subprocess.Popen] = {}
        base = dict(os.environ)
        self.env = {**base, **config.env()} if env_overrides_win else {**config.env(), **base}

    def migrate(self) -> None:
        for argv in migrate_commands():
            subprocess.run(argv, env=self.env, check=True, capture_output=True, timeout=120)

    def start(self, only: list[str] | None = None) -> "Platform":
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.migrate()
        for name, argv in processes(self.config).items():
            if only is None or name in only:
                self.start_process(name, argv)
        self.wait_ready()
        return self

    def start_process(self, name: str, argv: list[str] | None = None, env: dict[str, str] | None = None) -> None:
        """`name` from the topology; `kind#2` starts one more replica of `kind` (competing
        consumers, a second API), which needs its own ports through `env`."""
        argv = argv or processes(self.config)[name.partition("#")[0]]
        log = open(self.log_dir / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(argv, env={**self.env, **(env or {})}, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 60, names=None) -> None:
        """Every started API answers /readyz and every started consumer has declared its queue."""
        names = set(self.procs if names is None else names)
        for service in SERVICES:
            if f"{service}-api" in names:
                wait_until(lambda s=service: requests.get(f"{self.config.url(s)}/readyz", timeout=2).ok,
                           timeout, f"{service} /readyz")
        if "sandbox-gateway" in names:
            wait_until(lambda: requests.get(f"{self.config.url('sandbox')}/healthz", timeout=2).ok,
                       timeout, "the sandbox gateway")
        params = broker_parameters(self.config.amqp_url)  # every address of AMQP_URL, tried in turn
        for service in CONSUMING_SERVICES:
            if f"{service}-worker" in names:
                wait_until(lambda s=service: self._queue_exists(params, f"{s}.events"), timeout,
                           f"the {service} consumer's queue")

    @staticmethod
    def _queue_exists(params, queue: str) -> bool:
        conn = pika.BlockingConnection(params)
        try:
            conn.channel().queue_declare(queue, passive=True)
            return True
        except pika.exceptions.ChannelClosedByBroker:
            return False
        finally:
            if conn.is_open:
                conn.close()

    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def stop(self) -> None:
        for name in list(self.procs):
            self.stop_process(name)

    def mails(self) -> list:
        """Every email the mail sink took, oldest first, parsed."""
        from email import message_from_bytes
        from email.policy import default

        folder = self.config.data_dir / "mail"
        paths = sorted(folder.glob("*.eml"), key=lambda p: float(p.stem)) if folder.exists() else []
        return [message_from_bytes(p.read_bytes(), policy=default) for p in paths]

    def logs(self) -> str:
        out = []
        for path in sorted(self.log_dir.glob("*.log")):
            text = path.read_text(errors="replace")
            out.append(f"===== {path.name} (last 4000 chars)\n{text[-4000:]}")
        return "\n".join(out)
