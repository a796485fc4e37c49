"""Free TCP ports for the servers a test starts, chosen where outgoing connections never land.

Binding port 0 returns a port from the kernel's ephemeral range — the same range every outgoing
connection takes its local port from. A port picked that way and bound seconds later (a platform
starts a dozen processes) can meanwhile be the local end of somebody's connection to RabbitMQ or
PostgreSQL: gunicorn then fails with "Address already in use" (seen in CI: a whole e2e module
errored). Ports below the ephemeral range are taken only by servers that ask for them.

A port is handed out once per process: `{name: free_port() for name in services}` binds nothing
between picks, so without that two services could get the same port (CI's package-check saw one
fail with "Address already in use" on a port no other process held).
"""
from __future__ import annotations

import random
import socket
import threading
from pathlib import Path

_FLOOR = 10_000
_handed_out: set[int] = set()
_lock = threading.Lock()


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, below the ephemeral range (random, so parallel picks rarely meet)."""
    high = max(_FLOOR + 1_000, _ephemeral_low())
    for _ in range(200):
        port = random.randrange(_FLOOR, high)
        with _lock:
            if port in _handed_out:
                continue
            _handed_out.add(port)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port between {_FLOOR} and {high}")
