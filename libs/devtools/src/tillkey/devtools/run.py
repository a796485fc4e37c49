"""`make run`: broker check, migrations, every process under honcho, the demo merchant, the link."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from tillkey.devtools.launcher import Platform, wait_until
from tillkey.devtools.seed import seed_demo
from tillkey.devtools.topology import DEFAULT_PORTS, SERVICES, PlatformConfig, processes
from tillkey.platform.config import DEFAULT_ADMIN_TOKEN, DEFAULT_AMQP_URL, DEFAULT_PLATFORM_SECRET

ROOT = Path(__file__).resolve().parents[5]


def ensure_broker(amqp_url: str) -> None:
    from tillkey.testing.servers import answers, docker_available

    if answers(amqp_url, 5672):
        return
    if shutil.which("rabbitmq-server"):
        print("run: nothing answers at AMQP_URL; starting the local rabbitmq-server …", flush=True)
        subprocess.run(["rabbitmq-server", "-detached"], check=False)
    elif docker_available():
        print("run: nothing answers at AMQP_URL; starting RabbitMQ from deploy/docker-compose.yml …", flush=True)
        subprocess.run(["docker", "compose", "-f", str(ROOT / "deploy/docker-compose.yml"), "up", "-d", "rabbitmq"],
                       check=True)
    else:
        sys.exit(f"run: no RabbitMQ answers at {amqp_url}; install rabbitmq-server, start Docker, "
                 "or set AMQP_URL to a running broker.")
    wait_until(lambda: answers(amqp_url, 5672), 60, "RabbitMQ to answer", interval=0.5)


def config_from_env() -> PlatformConfig:
    env = os.environ
    ports = {name: int(env.get(f"{name.upper()}_PORT", port)) for name, port in DEFAULT_PORTS.items()}
    return PlatformConfig(
        amqp_url=env.get("AMQP_URL", DEFAULT_AMQP_URL), data_dir=ROOT / "var", ports=ports,
        admin_token=env.get("ADMIN_TOKEN", DEFAULT_ADMIN_TOKEN),
        platform_secret=env.get("PLATFORM_SECRET", DEFAULT_PLATFORM_SECRET),
        database_urls={s: env[f"{s.upper()}_DATABASE_URL"] for s in SERVICES if env.get(f"{s.upper()}_DATABASE_URL")},
    )


def write_procfile(config: PlatformConfig) -> Path:
    path = config.data_dir / "Procfile"
    path.write_text("".join(f"{name}: exec {' '.join(argv)}\n" for name, argv in processes(config).items()))
    return path


def main() -> None:
    config = config_from_env()
    config.data_dir.mkdir(exist_ok=True)
    ensure_broker(config.amqp_url)
    platform = Platform(config, env_overrides_win=False)  # the operator's environment wins
    print("run: migrating every service's database …", flush=True)
    platform.migrate()
    procfile = write_procfile(config)
    honcho = subprocess.Popen([str(Path(sys.executable).parent / "honcho"), "start", "-f", str(procfile),
                               "-d", str(ROOT)], env=platform.env)
    try:
        platform.wait_ready(timeout=90, names=processes(config))
        demo = seed_demo(config)
        print(banner(config, demo), flush=True)
        honcho.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if honcho.poll() is None:
            honcho.send_signal(signal.SIGINT)
            try:
                honcho.wait(20)
            except subprocess.TimeoutExpired:
                honcho.kill()


def banner(config: PlatformConfig, demo: dict) -> str:
    line = "=" * 78
    return "\n".join([
        line, "Tillkey is running.", "",
        f"  Checkout link (open it in a browser): {demo['checkout_url']}", "",
        f"  Demo merchant:   {demo['merchant_id']}",
        f"  Demo API key:    {demo['api_key']}",
        f"  Admin token:     {config.admin_token}",
        f"  Webhooks go to:  {config.url('demo_receiver')}/webhooks (lines start with 'demo-receiver:')",
        f"  Emails go to:    {config.data_dir / 'mail'} (lines start with 'mail-sink:')",
        "  APIs:            " + ", ".join(f"{s} {config.url(s)}" for s in SERVICES),
        "", "Ctrl-C stops everything.", line])


if __name__ == "__main__":
    main()
