"""`make run`: broker check, migrations, every process under honcho, the demo merchant, the link.

Stopping: Ctrl-C (SIGINT to the whole terminal group), SIGTERM to `make` (make passes it to us
only) or to this process all end the same way — honcho is told to stop its processes and is
waited for, so no service is left holding its port. Python's default SIGTERM would end this
process without running `finally`, orphaning honcho and every service: hence the handler.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import requests

from tillkey.devtools.launcher import Platform, wait_until
from tillkey.devtools.seed import seed_demo
from tillkey.devtools.topology import DASHBOARD, DEFAULT_PORTS, SERVICES, PlatformConfig, processes
from tillkey.platform.config import DEFAULT_ADMIN_TOKEN, DEFAULT_AMQP_URL, DEFAULT_PLATFORM_SECRET, parse_bool

ROOT = Path(__file__).resolve().parents[5]
DEFAULT_SMTP_HOST = "127.0.0.1"
# honcho sends SIGTERM, then SIGKILL after 5 s: it is done well within this.
HONCHO_STOP_TIMEOUT = 15


class Stop(Exception):
    """SIGTERM/SIGHUP arrived: unwind through `finally` like Ctrl-C does."""


def ensure_broker(amqp_url: str) -> None:
    from tillkey.platform.broker_addresses import broker_urls
    from tillkey.testing.servers import answers, docker_available

    if any(answers(url, 5672) for url in broker_urls(amqp_url)):  # one node of a cluster is enough
        return
    if shutil.which("rabbitmq-server"):
        print("run: nothing answers at AMQP_URL; starting the local rabbitmq-server …", flush=True)
        subprocess.run(["rabbitmq-server", "-detached"], check=False)
    elif docker_available():
        print("run: nothing answers at AMQP_URL; starting RabbitMQ from deploy/compose/dev-broker.yml …", flush=True)
        subprocess.run(["docker", "compose", "-f", str(ROOT / "deploy/compose/dev-broker.yml"), "up", "-d", "rabbitmq"],
                       check=True)
    else:
        sys.exit(f"run: no RabbitMQ answers at {amqp_url}; install rabbitmq-server, start Docker, "
                 "or set AMQP_URL to a running broker.")
    wait_until(lambda: any(answers(url, 5672) for url in broker_urls(amqp_url)), 60, "RabbitMQ to answer",
               interval=0.5)


def data_dir_from_env(env=os.environ) -> Path:
    """RUN_DATA_DIR (relative to the repository), default `var/`: tests give their own."""
    path = Path(env.get("RUN_DATA_DIR", "var") or "var")
    return path if path.is_absolute() else ROOT / path


def own_mail_sink(env=os.environ) -> bool:
    """Only with the default mail settings: a SMTP_HOST/SMTP_PORT of one's own is a mail server
    that is already there (a Mailpit, a relay); binding a sink to it would fail and stop everything.
    RUN_MAIL_SINK=true/false decides instead (a sink on another port, for a second `make run`)."""
    if env.get("RUN_MAIL_SINK"):
        return parse_bool(env["RUN_MAIL_SINK"])
    host = env.get("SMTP_HOST") or DEFAULT_SMTP_HOST
    port = env.get("SMTP_PORT") or str(DEFAULT_PORTS["smtp"])
    return host == DEFAULT_SMTP_HOST and port == str(DEFAULT_PORTS["smtp"])


def config_from_env() -> PlatformConfig:
    env = os.environ
    ports = {name: int(env.get(f"{name.upper()}_PORT", port)) for name, port in DEFAULT_PORTS.items()}
    return PlatformConfig(
        amqp_url=env.get("AMQP_URL", DEFAULT_AMQP_URL), data_dir=data_dir_from_env(env), ports=ports,
        admin_token=env.get("ADMIN_TOKEN", DEFAULT_ADMIN_TOKEN),
        platform_secret=env.get("PLATFORM_SECRET", DEFAULT_PLATFORM_SECRET),
        database_urls={s: env[f"{s.upper()}_DATABASE_URL"] for s in (*SERVICES, DASHBOARD)
                       if env.get(f"{s.upper()}_DATABASE_URL")},
    )


def run_processes(config: PlatformConfig, with_mail_sink: bool) -> dict[str, list[str]]:
    return {name: argv for name, argv in processes(config).items() if with_mail_sink or name != "mail-sink"}


def write_procfile(procs: dict[str, list[str]], data_dir: Path) -> Path:
    path = data_dir / "Procfile"
    path.write_text("".join(f"{name}: exec {' '.join(argv)}\n" for name, argv in procs.items()))
    return path


def _raise_stop(signum, _frame):
    raise Stop(signal.Signals(signum).name)


def main() -> None:
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_stop)
    config = config_from_env()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    with_sink = own_mail_sink()
    honcho = None
    try:
        ensure_broker(config.amqp_url)
        platform = Platform(config, env_overrides_win=False)  # the operator's environment wins
        print("run: migrating every service's database …", flush=True)
        platform.migrate()
        procs = run_processes(config, with_sink)
        procfile = write_procfile(procs, config.data_dir)
        honcho = subprocess.Popen([str(Path(sys.executable).parent / "honcho"), "start", "-f", str(procfile),
                                   "-d", str(ROOT)], env=platform.env)
        platform.wait_ready(timeout=90, names=procs)
        wait_until(lambda: requests.get(f"{config.url(DASHBOARD)}/readyz", timeout=2).ok, 90, "the dashboard /readyz")
        demo = seed_demo(config)
        print(banner(config, demo, platform.env, with_sink), flush=True)
        honcho.wait()
    except (KeyboardInterrupt, Stop):
        pass
    finally:
        stop_honcho(honcho)


def stop_honcho(honcho: subprocess.Popen | None) -> None:
    """honcho stops its processes (SIGTERM to each group, SIGKILL after 5 s), then exits."""
    if honcho is None or honcho.poll() is not None:
        return
    # Ignore further signals while waiting: a second Ctrl-C must not abandon honcho half-way.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    honcho.send_signal(signal.SIGTERM)
    try:
        honcho.wait(HONCHO_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        honcho.kill()
        honcho.wait(5)


def banner(config: PlatformConfig, demo: dict, env: dict, with_sink: bool) -> str:
    line = "=" * 78
    mail = (f"{config.data_dir / 'mail'} (lines start with 'mail-sink:')" if with_sink
            else f"your mail server at {env.get('SMTP_HOST')}:{env.get('SMTP_PORT')}")
    return "\n".join([
        line, "Tillkey is running.", "",
        f"  Checkout link (open it in a browser): {demo['checkout_url']}", "",
        f"  Dashboard:       {config.url(DASHBOARD)}/login (sign in as {demo['dashboard_email']}, "
        f"password {demo['dashboard_password']})",
        f"  Demo merchant:   {demo['merchant_id']}",
        f"  Demo API key:    {demo['api_key']}",
        f"  Admin token:     {config.admin_token}",
        f"  Webhooks go to:  {config.url('demo_receiver')}/webhooks (lines start with 'demo-receiver:')",
        f"  Emails go to:    {mail}",
        f"  Test cards:      {config.url('sandbox')}/ (4242 4242 4242 4242 pays; the page lists the others)",
        "  APIs:            " + ", ".join(f"{s} {config.url(s)}" for s in SERVICES),
        "", "Ctrl-C stops everything.", line])


if __name__ == "__main__":
    main()
