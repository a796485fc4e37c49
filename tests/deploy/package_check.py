"""`make package-check`: the packages as an operator installs them, run for real.

Builds every runtime wheel from a copy of the sources (no egg-info or build/ left by an editable
install can fill in a file the wheel forgot), installs them non-editable into a fresh virtual
environment under a temporary folder, migrates every service and the dashboard into fresh PostgreSQL
databases (twice: the second run must be a no-op), then starts each API, each worker (with its health
port), the dashboard (its API only: it has no worker) and the sandbox gateway from that environment,
outside the source tree, and waits for every /readyz. The workers' /healthz is asked after
WORKER_STUCK_AFTER has passed, so an idle worker that the probe would take for a stuck one fails
here too. Exit status 0 only if all of that held.

Servers: TEST_POSTGRES_URL and TEST_AMQP_URL (as the tests), a fresh vhost and databases per run.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from proxy_check import check_proxy
from sqlalchemy import create_engine, text

from tillkey.dashboard.config import API_DEFAULTS
from tillkey.devtools.launcher import free_port, wait_until
from tillkey.testing.databases import create_postgres_database, drop_postgres_database
from tillkey.testing.servers import create_vhost, delete_vhost, resolve

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["libs/contracts", "libs/messaging", "libs/platform", "services/orders", "services/payments",
            "services/fulfillment", "services/notifications", "services/webhooks", "services/dashboard"]
SERVICES = ["orders", "payments", "fulfillment", "notifications", "webhooks"]
DASHBOARD = "dashboard"  # an API and a database, no worker (docs/dashboard.md)
MIGRATED = [*SERVICES, DASHBOARD]
DASHBOARD_CALLS = list(API_DEFAULTS)  # the APIs the dashboard is a client of
STUCK_AFTER = 5  # seconds: short, so an idle worker is probed well past it


def step(what: str, started: float) -> None:
    print(f"package-check: {what} ({time.monotonic() - started:.1f} s)", flush=True)


def build_wheels(work: Path) -> list[Path]:
    sources, wheels = work / "src", work / "wheels"
    skip = shutil.ignore_patterns("*.egg-info", "build", "dist", "__pycache__", "tests")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, sources / package, ignore=skip)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels),
                    *[str(sources / p) for p in PACKAGES]], check=True)
    return sorted(wheels.glob("*.whl"))


def install(work: Path, wheels: list[Path]) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True)
    bindir = work / "venv" / "bin"
    subprocess.run([str(bindir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "-c", str(ROOT / "requirements" / "constraints.txt"), *map(str, wheels)], check=True)
    where = subprocess.run([str(bindir / "python"), "-c", "import tillkey.orders; print(tillkey.orders.__file__)"],
                           cwd=work, check=True, capture_output=True, text=True).stdout.strip()
    if not where.startswith(str(work / "venv")):
        raise SystemExit(f"package-check: tillkey.orders comes from {where}, not from the fresh environment")
    return bindir


def migrate(bindir: Path, env: dict, work: Path, databases: dict[str, str]) -> None:
    for service in MIGRATED:
        command = [str(bindir / f"tillkey-{service}"), "migrate"]
        # --check is what a new pod's init container waits on: 3 (pending) before, 0 after.
        before = subprocess.run([*command, "--check"], env=env, cwd=work, capture_output=True).returncode
        for _ in range(2):  # the second upgrade finds nothing to do
            subprocess.run(command, env=env, cwd=work, check=True)
        after = subprocess.run([*command, "--check"], env=env, cwd=work).returncode
        if (before, after) != (3, 0):
            raise SystemExit(f"package-check: {service} migrate --check answered {before} before, {after} after")
        engine = create_engine(databases[service])
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        engine.dispose()
        print(f"package-check: {service} migrated to {version}", flush=True)


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            return answer.status
    except urllib.error.HTTPError as failed:
        return failed.code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="leave the temporary folder (logs, venv) behind")
    args = parser.parse_args()
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="tillkey-package-check-"))
    pg_server = resolve("postgres")[0]
    amqp_url, vhost = create_vhost(resolve("amqp")[0])
    databases = {s: create_postgres_database(pg_server) for s in MIGRATED}
    procs: dict[str, subprocess.Popen] = {}
    try:
        bindir = install(work, build_wheels(work))
        step(f"built and installed {len(PACKAGES)} wheels into {work / 'venv'}", started)
        ports = {name: free_port() for name in [*MIGRATED, *(f"{s}-worker" for s in SERVICES), "sandbox"]}
        env = {"PATH": f"{bindir}:{os.environ['PATH']}", "AMQP_URL": amqp_url, "LOG_LEVEL": "WARNING",
               "WEB_CONCURRENCY": "1", "WEB_THREADS": "2", "WORKER_STUCK_AFTER": f"{STUCK_AFTER}s",
               "ADMIN_TOKEN": "package-check", "PLATFORM_SECRET": "package-check-" + "x" * 32,
               "SANDBOX_PORT": str(ports["sandbox"]), "SANDBOX_DATABASE_URL": f"sqlite:///{work / 'sandbox.db'}",
               "SANDBOX_GATEWAY_URL": f"http://127.0.0.1:{ports['sandbox']}"}
        for service in MIGRATED:
            env[f"{service.upper()}_DATABASE_URL"] = databases[service]
            env[f"{service.upper()}_PORT"] = str(ports[service])
        for service in DASHBOARD_CALLS:  # where the dashboard calls them
            env[f"{service.upper()}_API_URL"] = f"http://127.0.0.1:{ports[service]}"
        migrate(bindir, env, work, databases)
        step("migrated every service and the dashboard twice; migrate --check 3 before, 0 after", started)
        logs = work / "logs"
        logs.mkdir()
        for service in SERVICES:
            for mode in ("api", "worker"):
                name = f"{service}-{mode}"
                extra = {"WORKER_HEALTH_PORT": str(ports[name])} if mode == "worker" else {}
                procs[name] = subprocess.Popen([str(bindir / f"tillkey-{service}"), mode], cwd=work,
                                               env={**env, **extra}, stdout=open(logs / f"{name}.log", "wb"),
                                               stderr=subprocess.STDOUT, start_new_session=True)
        procs["dashboard-api"] = subprocess.Popen([str(bindir / "tillkey-dashboard"), "api"], cwd=work, env=env,
                                                  stdout=open(logs / "dashboard-api.log", "wb"),
                                                  stderr=subprocess.STDOUT, start_new_session=True)
        procs["sandbox"] = subprocess.Popen([str(bindir / "tillkey-sandbox-gateway")], cwd=work, env=env,
                                            stdout=open(logs / "sandbox.log", "wb"), stderr=subprocess.STDOUT,
                                            start_new_session=True)
        probes = {f"{s} api /readyz": f"http://127.0.0.1:{ports[s]}/readyz" for s in MIGRATED}
        probes |= {f"{s} worker /readyz": f"http://127.0.0.1:{ports[s + '-worker']}/readyz" for s in SERVICES}
        # Metrics from the installed packages: gunicorn's config module and prometheus_client are in the wheels.
        probes |= {f"{s} api /metrics": f"http://127.0.0.1:{ports[s]}/metrics" for s in MIGRATED}
        probes |= {f"{s} worker /metrics": f"http://127.0.0.1:{ports[s + '-worker']}/metrics" for s in SERVICES}
        # Pages and the sandbox: templates and static files are package data too.
        probes |= {"orders /": f"http://127.0.0.1:{ports['orders']}/",
                   "payments /": f"http://127.0.0.1:{ports['payments']}/",
                   "dashboard /login": f"http://127.0.0.1:{ports[DASHBOARD]}/login",
                   "sandbox /": f"http://127.0.0.1:{ports['sandbox']}/"}
        for what, url in probes.items():
            wait_until(lambda url=url, what=what: _alive(procs) and get(url) == 200, 90, what, interval=0.25)
        step(f"every API, worker, the dashboard and the sandbox answered 200 ({len(probes)} probes)", started)
        time.sleep(STUCK_AFTER + 2)  # every loop idle in place longer than the probe allows
        for service in SERVICES:
            status = get(f"http://127.0.0.1:{ports[service + '-worker']}/healthz")
            if status != 200:
                raise SystemExit(f"package-check: {service} worker /healthz answered {status} while idle")
        step(f"every idle worker live after WORKER_STUCK_AFTER={STUCK_AFTER}s", started)
        passed = check_proxy(ports, free_port(), free_port(), work)
        step(f"the compose proxy's nginx routes {passed} requests to the right services", started)
        codes = _stop(procs)
        if any(codes.values()):
            raise SystemExit(f"package-check: processes exited badly on SIGTERM: {codes}")
        step("every process stopped cleanly on SIGTERM", started)
        return 0
    except BaseException:
        print(f"package-check: FAILED; logs in {work / 'logs'}", file=sys.stderr)
        args.keep = True
        raise
    finally:
        _stop(procs)
        for url in databases.values():
            drop_postgres_database(pg_server, url)
        delete_vhost(vhost)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _alive(procs: dict[str, subprocess.Popen]) -> bool:
    dead = {name: p.returncode for name, p in procs.items() if p.poll() is not None}
    if dead:
        raise SystemExit(f"package-check: exited before answering: {dead}")
    return True


def _stop(procs: dict[str, subprocess.Popen]) -> dict[str, int | None]:
    for p in procs.values():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    codes = {}
    for name, p in procs.items():
        try:
            codes[name] = p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            codes[name] = "killed after 20 s"
    return codes


if __name__ == "__main__":
    sys.exit(main())
