"""Finding the real servers the tests need: env URL, else testcontainers (Docker), else local ports.

If none answers, the run fails with one clear sentence (never a silent skip).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from urllib.parse import urlsplit, urlunsplit

LOCAL_AMQP = "amqp://guest:guest@127.0.0.1:5672/%2F"
LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def docker_available() -> bool:
    # testcontainers fails late, at container creation, without a daemon: ask first.
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0


def _container(kind: str):
    if kind == "amqp":
        from testcontainers.rabbitmq import RabbitMqContainer
        c = RabbitMqContainer("rabbitmq:3.13").start()
        return c, f"amqp://guest:guest@{c.get_container_host_ip()}:{c.get_exposed_port(5672)}/%2F"
    from testcontainers.postgres import PostgresContainer
    c = PostgresContainer("postgres:15", driver="psycopg").start()
    return c, c.get_connection_url()


def resolve(kind: str) -> tuple[str, object | None]:
    """(url, container or None) for 'amqp' or 'postgres'."""
    env, local, port = {"amqp": ("TEST_AMQP_URL", LOCAL_AMQP, 5672),
                        "postgres": ("TEST_POSTGRES_URL", LOCAL_POSTGRES, 5432)}[kind]
    if os.environ.get(env):
        url = os.environ[env]
        if kind == "postgres" and url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        if not answers(url, port):
            raise RuntimeError(f"{env}={url} does not answer: start that server or unset {env}.")
        return url, None
    if not answers(local, port) and docker_available():
        container, url = _container(kind)
        return url, container
    if answers(local, port):
        return local, None
    raise RuntimeError(f"No {kind} server: set {env}, run Docker for testcontainers, or start one on 127.0.0.1:{port}.")


def with_vhost(amqp_url: str, vhost: str) -> str:
    parts = urlsplit(amqp_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + vhost, parts.query, ""))


def create_vhost(amqp_url: str) -> tuple[str, str | None]:
    """A fresh vhost (isolated exchange and queues) when rabbitmqctl can make one; else the URL as is."""
    if not shutil.which("rabbitmqctl"):
        return amqp_url, None
    name = "tillkey-test-" + uuid.uuid4().hex[:10]
    user = urlsplit(amqp_url).username or "guest"
    ok = subprocess.run(["rabbitmqctl", "add_vhost", name], capture_output=True, timeout=60).returncode == 0
    if not ok:
        return amqp_url, None
    subprocess.run(["rabbitmqctl", "set_permissions", "-p", name, user, ".*", ".*", ".*"],
                   capture_output=True, timeout=60, check=True)
    return with_vhost(amqp_url, name), name


def delete_vhost(name: str | None) -> None:
    if name:
        subprocess.run(["rabbitmqctl", "delete_vhost", name], capture_output=True, timeout=60)
