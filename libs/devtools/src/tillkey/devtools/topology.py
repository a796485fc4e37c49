"""The platform's processes: one table used by `make run` (through honcho) and by the e2e tests."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("orders", "payments", "fulfillment", "notifications", "webhooks")
# The merchant dashboard: an API process only (no worker, no events), a client of the services' APIs.
DASHBOARD = "dashboard"
DEFAULT_PORTS = {"orders": 8001, "payments": 8002, "fulfillment": 8003, "notifications": 8004,
                 "webhooks": 8005, "dashboard": 8006, "sandbox": 8009, "demo_receiver": 8010, "smtp": 1025,
                 # Each worker's /metrics (and /healthz, /readyz): <SERVICE>_METRICS_PORT.
                 "orders_metrics": 9101, "payments_metrics": 9102, "fulfillment_metrics": 9103,
                 "notifications_metrics": 9104, "webhooks_metrics": 9105}


@dataclass
class PlatformConfig:
    """Everything that differs between `make run` and one e2e test: ports, databases, broker."""

    amqp_url: str
    data_dir: Path
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    admin_token: str = "dev-admin-token"
    platform_secret: str = "dev-platform-secret-change-me"
    extra_env: dict[str, str] = field(default_factory=dict)
    database_urls: dict[str, str] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def database_url(self, service: str) -> str:
        return self.database_urls.get(service) or f"sqlite:///{self.data_dir / (service + '.db')}"

    def env(self) -> dict[str, str]:
        env = {
            "AMQP_URL": self.amqp_url,
            "ADMIN_TOKEN": self.admin_token,
            "PLATFORM_SECRET": self.platform_secret,
            "ORDERS_PUBLIC_URL": self.url("orders"),
            "PAYMENTS_PUBLIC_URL": self.url("payments"),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.ports["smtp"]),
            "ALLOW_PRIVATE_URLS": "true",  # the demo merchant runs on loopback
            # The sandbox card gateway: payments calls it, the payment page's script tokenizes with it.
            "SANDBOX_PORT": str(self.ports["sandbox"]),
            "SANDBOX_DATABASE_URL": f"sqlite:///{self.data_dir / 'sandbox.db'}",
            "SANDBOX_GATEWAY_URL": self.url("sandbox"),
            "SANDBOX_PUBLIC_URL": self.url("sandbox"),
        }
        for service in SERVICES:
            env[f"{service.upper()}_PORT"] = str(self.ports[service])
            env[f"{service.upper()}_DATABASE_URL"] = self.database_url(service)
            if f"{service}_metrics" in self.ports:
                env[f"{service.upper()}_METRICS_PORT"] = str(self.ports[f"{service}_metrics"])
            env[f"{service.upper()}_API_URL"] = self.url(service)      # where the dashboard calls each API
        env["DASHBOARD_PORT"] = str(self.ports[DASHBOARD])
        env["DASHBOARD_DATABASE_URL"] = self.database_url(DASHBOARD)
        env.update(self.extra_env)
        return env


def processes(config: PlatformConfig) -> dict[str, list[str]]:
    """name → argv. Every service runs an API (gunicorn) and a worker (consumer + relay + …)."""
    bindir = Path(sys.executable).parent
    procs: dict[str, list[str]] = {}
    for service in SERVICES:
        procs[f"{service}-api"] = [str(bindir / f"tillkey-{service}"), "api"]
        procs[f"{service}-worker"] = [str(bindir / f"tillkey-{service}"), "worker"]
    procs["dashboard-api"] = [str(bindir / "tillkey-dashboard"), "api"]
    procs["sandbox-gateway"] = [str(bindir / "tillkey-sandbox-gateway")]
    procs["mail-sink"] = [sys.executable, "-m", "tillkey.devtools.mail_sink", "--port", str(config.ports["smtp"]),
                          "--dir", str(config.data_dir / "mail")]
    procs["demo-receiver"] = [sys.executable, "-m", "tillkey.devtools.demo_receiver",
                              "--port", str(config.ports["demo_receiver"]),
                              "--secret-file", str(config.data_dir / "demo-webhook-secret")]
    return procs


def migrate_commands() -> list[list[str]]:
    bindir = Path(sys.executable).parent
    return [[str(bindir / f"tillkey-{service}"), "migrate"] for service in (*SERVICES, DASHBOARD)]
