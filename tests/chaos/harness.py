"""The platform the chaos scenarios run on: every process supervised on its own (so one can be
SIGKILLed and started again), the suite's own PostgreSQL, a merchant receiver and a mail server
the test controls, and one call that runs a flow, injects a fault mid-flow, settles and tallies."""
from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.chaos import effects
from tests.chaos.flow import Flow
from tests.chaos.tally import Tally
from tillkey.devtools.launcher import Platform, free_port
from tillkey.devtools.topology import DEFAULT_PORTS, SERVICES, PlatformConfig, processes
from tillkey.testing import databases
from tillkey.testing.platform_client import PlatformClient
from tillkey.testing.receiver import Received, Receiver
from tillkey.testing.smtp import SmtpSink

WEBHOOK_TIMEOUT = 2.0
# Short schedules so a fault of a few seconds is retried past within the settle time; the
# behaviour is the production one, only the waits are shorter.
ENV = {
    "LOG_LEVEL": "WARNING",
    "WEBHOOK_TIMEOUT": f"{WEBHOOK_TIMEOUT:g}s",
    "WEBHOOK_RETRY_SCHEDULE": "1s,2s,2s,3s,3s,5s,5s,5s,5s,10s,10s,10s",
    "SMTP_RETRY_SCHEDULE": "1s,2s,2s,3s,3s,5s,5s,5s,5s,10s,10s,10s",
    "SMTP_TIMEOUT": "5s",
    "SANDBOX_SETTLE_DELAY": "100ms",
    "SANDBOX_NOTIFY_RETRY_SCHEDULE": "1s,1s,2s,2s,3s,5s,5s,5s,10s",
    "PAYMENTS_GATEWAY_RESUBMIT_AFTER": "5s",
    "SCHEDULER_INTERVAL": "1s",
    "RATE_LIMIT_PER_ADDRESS": "10000000/minute",  # every customer of the run comes from 127.0.0.1
}
SERVICE_PROCESSES = tuple(f"{s}-{kind}" for s in SERVICES for kind in ("api", "worker"))


class MerchantSide:
    """The merchant's webhook endpoint: answers 200, or 500 while `failing`, or after
    WEBHOOK_TIMEOUT + 1 s while `slow` (the sender has given up by then)."""

    def __init__(self):
        self.failing = threading.Event()
        self.slow = threading.Event()
        self.receiver = Receiver(self._answer, keep_alive=True)

    def _answer(self, _req: Received):
        if self.failing.is_set():
            return 500, {}, b"merchant is down"
        if self.slow.is_set():
            time.sleep(WEBHOOK_TIMEOUT + 1)
        return 200, {"Content-Type": "application/json"}, b'{"ok": true}'


class ChaosPlatform:
    def __init__(self, amqp_url: str, postgres_server: str, data_dir: Path, *, extra_env: dict | None = None,
                 worker_replicas: int = 1, web_concurrency: int = 1):
        self.postgres_server = postgres_server
        self.database_urls = {s: databases.create_postgres_database(postgres_server) for s in SERVICES}
        self.config = PlatformConfig(
            amqp_url=amqp_url, data_dir=data_dir, ports={name: free_port() for name in DEFAULT_PORTS},
            admin_token="chaos-admin-token", platform_secret="chaos-platform-secret",
            database_urls=self.database_urls,
            extra_env={**ENV, "WEB_CONCURRENCY": str(web_concurrency), **(extra_env or {})})
        self.platform = Platform(self.config)
        self.merchant_side = MerchantSide()
        self.mail = SmtpSink(port=self.config.ports["smtp"])
        # name → its own environment (a replica's metrics port), reused when it is started again.
        self.process_env: dict[str, dict[str, str]] = {}
        self.worker_replicas = worker_replicas
        # The supervisor (what systemd or Kubernetes is in production): a process that exits on its
        # own is started again after a second, and written down.
        self.exits: list[str] = []
        self.killed: set[str] = set()  # by the scenario running now
        self._lock = threading.RLock()
        self._supervising = threading.Event()
        self.client = PlatformClient({n: self.config.url(n) for n in (*SERVICES, "sandbox")}, self.config.admin_token)

    # -- life ---------------------------------------------------------------------------------
    def start(self) -> ChaosPlatform:
        self.merchant_side.receiver.__enter__()
        self.mail.start()
        self.platform.log_dir.mkdir(parents=True, exist_ok=True)
        self.platform.migrate()
        for name in self.names():
            self.start_process(name)
        self.platform.wait_ready(timeout=120)
        self._supervising.set()
        threading.Thread(target=self._supervise, name="chaos-supervisor", daemon=True).start()
        return self

    def _supervise(self) -> None:
        while self._supervising.is_set():
            time.sleep(1.0)
            with self._lock:
                for name, proc in list(self.platform.procs.items()):
                    if proc.poll() is not None and self._supervising.is_set():
                        self.exits.append(f"{name} exited ({proc.returncode}) and was started again")
                        self.start_process(name)

    def names(self) -> list[str]:
        names = ["sandbox-gateway", *SERVICE_PROCESSES]
        for replica in range(2, self.worker_replicas + 1):
            for service in SERVICES:
                name = f"{service}-worker#{replica}"
                self.process_env[name] = {f"{service.upper()}_METRICS_PORT": str(free_port())}
                names.append(name)
        return names

    def stop(self) -> None:
        self._supervising.clear()
        with self._lock:
            self.platform.stop()
        self.mail.stop()
        self.merchant_side.receiver.__exit__(None, None, None)
        for url in self.database_urls.values():
            try:
                databases.drop_postgres_database(self.postgres_server, url)
            except Exception:  # noqa: BLE001 — a server already gone takes its databases with it
                pass

    def start_process(self, name: str) -> None:
        argv = processes(self.config)[name.partition("#")[0]]
        self.platform.start_process(name, argv, env=self.process_env.get(name))

    def kill(self, *names: str) -> None:
        self.killed.update(names)
        with self._lock:
            for name in names:
                self.platform.stop_process(name, signal.SIGKILL)

    def restart(self, *names: str) -> None:
        with self._lock:
            for name in names:
                self.start_process(name)
        self.platform.wait_ready(timeout=120, names=list(names))

    # -- a merchant per scenario ----------------------------------------------------------------
    def shop(self, keys: int) -> tuple[dict, dict]:
        merchant = self.client.new_merchant(f"Chaos {time.time():.0f}")
        key = merchant["api_key"]
        product = self.client.new_product(key, "Chaos Editor")
        pid = product["product_id"]
        self.client.call("fulfillment", "PUT", f"/v1/products/{pid}/license-source", key, expect=200,
                         json={"method": "pool", "low_stock_threshold": 1})
        self.client.call("fulfillment", "POST", f"/v1/products/{pid}/licenses", key, expect=201,
                         json={"keys": [f"CHAOS-{pid[-8:]}-{i:04d}" for i in range(keys)]})
        self.client.new_endpoint(key, f"{self.merchant_side.receiver.url}/hooks", ["*"])
        return merchant, product

    # -- one scenario ---------------------------------------------------------------------------
    def scenario(self, tally: Tally, fault: Callable[[], None], *, orders: int = 30, customers: int = 4,
                 fault_after: int = 8, settle_timeout: float = 120.0, unpaid: int = 0,
                 also: Callable[[effects.Run, Tally], None] | None = None) -> Tally:
        """A steady flow of `orders` orders; `fault()` runs once `fault_after` orders exist (the flow
        treats connection errors and 503s as the fault's while it runs); then settle and count.
        `unpaid` checkouts nobody pays are made first (reminders, deletions); `also(run, tally)`
        adds a scenario's own checks after the settle."""
        exits_before = len(self.exits)
        self.killed.clear()
        merchant, product = self.shop(orders + 10)
        tag = tally.scenario.replace("[", "-").replace("]", "").replace("_", "-")
        flow = Flow({n: self.config.url(n) for n in (*SERVICES, "sandbox")}, product["product_id"], tag=tag,
                    merchant_key=merchant["api_key"])
        since = time.time()
        left = [self.client.checkout(product["product_id"], email=f"unpaid.{tag}.{i}@example.com")
                for i in range(unpaid)]
        flow.start(orders, customers)
        flow.wait_started(fault_after)
        with flow.fault():
            fault()
        flow.join()
        bought = [effects.Order(b.order_id, b.email, b.paid) for b in flow.bought]
        bought += [effects.Order(c["order_id"], f"unpaid.{tag}.{i}@example.com", False) for i, c in enumerate(left)]
        run = effects.Run(merchant["merchant_id"], bought, self.merchant_side.receiver, self.mail,
                          self.database_urls, self.config.data_dir / "sandbox.db", since=since,
                          mail_sender_killed=any(n.startswith("notifications-worker") for n in self.killed))
        settled = effects.settle(run, settle_timeout)
        tally.notes.append(f"settled in {settled:.1f}s; the clients retried {flow.absorbed} answers during the fault")
        if also is not None:
            also(run, tally)
        tally.notes.extend(f"supervisor: {e}" for e in self.exits[exits_before:])
        effects.count(run, tally)
        tally.notes.extend(f"payment failed and tried again: {f}" for f in flow.failed_attempts)
        tally.notes.extend(f"paid by an earlier attempt's late charge: {o}" for o in flow.paid_by_earlier_attempt)
        tally.count("unexpected", flow.unexpected, "answer")
        tally.count("unexpected", flow.abandoned, "client gave up")
        if len(flow.paid()) < orders:
            tally.notes.append(f"{len(flow.paid())} of {orders} orders paid")
        return tally
