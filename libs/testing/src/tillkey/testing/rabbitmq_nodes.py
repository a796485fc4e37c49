"""RabbitMQ nodes of a test's own on this machine: N of them (N=1 too), optionally one cluster.

Each node has its own name, AMQP and distribution ports and data directory under one temporary
directory; the nodes share an Erlang cookie of their own, so the machine's broker (its cookie,
`/etc/rabbitmq` and its node name) is never touched. Stop/start one node to inject a broker
fault; `close()` stops only the nodes this object started and removes their directory.

    with RabbitNodes(3) as nodes:        # a 3-node cluster
        url = nodes.amqp_url              # "amqp://…:p1/%2F,amqp://…:p2/%2F,amqp://…:p3/%2F"
        nodes.stop(nodes.leader_index("orders.events"))
        nodes.start(i)

Measured on 2 cores: one node ready in ~5 s, a 3-node cluster in ~11 s, a node's stop or start ~3 s,
`close()` of three ~12 s. Erlang's port mapper (epmd) is shared by every node of the machine: a
node starts it if none runs, and it is left running (it is not ours to stop).
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tillkey.testing import ports

# The distribution's own scripts: the /usr/sbin wrappers switch to the rabbitmq user and its
# cookie, which would make our nodes and the CLI disagree about the cookie.
RABBITMQ_BIN = Path(os.environ.get("TILLKEY_RABBITMQ_BIN", "/usr/lib/rabbitmq/bin"))
START_TIMEOUT = 90.0
CLI_TIMEOUT = 120.0


free_port = ports.free_port  # below the ephemeral range: a node binds its ports seconds later


def available() -> bool:
    """Whether RabbitMQ's server scripts are installed here (the suites that need nodes say so)."""
    return (RABBITMQ_BIN / "rabbitmq-server").exists() and (RABBITMQ_BIN / "rabbitmqctl").exists()


@dataclass
class RabbitNode:
    name: str
    amqp_port: int
    dist_port: int
    management_port: int | None
    base: Path

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/%2F"

    @property
    def pid_file(self) -> Path:
        return self.base / "node.pid"

    def pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None


class RabbitNodes:
    """`count` RabbitMQ nodes started on 127.0.0.1 (clustered unless `clustered=False`)."""

    def __init__(self, count: int = 1, *, clustered: bool = True, management: bool = False,
                 prefix: str = "tillkey-test") -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        if not available():
            raise RuntimeError(f"RabbitMQ server scripts not found in {RABBITMQ_BIN} (set TILLKEY_RABBITMQ_BIN).")
        self.clustered = clustered
        self.root = Path(tempfile.mkdtemp(prefix="tillkey-rabbit-"))
        self._cookie_home = self.root / "home"
        self._cookie_home.mkdir()
        cookie = self._cookie_home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(16).upper())
        cookie.chmod(0o400)
        (self.root / "rabbitmq-env.conf").write_text("")  # not the machine's (it names rabbit@localhost)
        tag = f"{prefix}-{os.getpid()}-{secrets.token_hex(2)}"
        self.nodes = [self._make_node(f"{tag}-{i + 1}@localhost", management) for i in range(count)]
        self._started: set[int] = set()

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> RabbitNodes:
        try:
            self.start_all()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start_all(self) -> list[str]:
        """Start every node (in parallel), cluster them, wait until each serves AMQP; their URLs."""
        for i in range(len(self.nodes)):
            self._spawn(i)
        for i in range(len(self.nodes)):
            self._wait_started(i)
        if self.clustered:
            first = self.nodes[0].name
            for i in range(1, len(self.nodes)):
                self.ctl(i, "stop_app")
                self.ctl(i, "join_cluster", first)
                self.ctl(i, "start_app")
        for i in range(len(self.nodes)):
            self._wait_amqp(i)
        return self.urls

    def stop(self, index: int, *, kill: bool = False) -> None:
        """Stop node `index`: gracefully (`rabbitmqctl stop`, the VM exits) or with SIGKILL."""
        node = self.nodes[index]
        pid = node.pid()
        if kill:
            if pid is not None:
                _kill(pid)
        else:
            result = self.ctl(index, "stop", str(node.pid_file), check=False)
            if result.returncode != 0 and pid is not None:
                _kill(pid)
        if pid is not None:
            _wait_gone(pid)
        node.pid_file.unlink(missing_ok=True)
        self._started.discard(index)

    def start(self, index: int) -> None:
        """Start node `index` again (it rejoins its cluster from its data directory)."""
        self._spawn(index)
        self._wait_started(index)
        self._wait_amqp(index)

    def close(self, *, keep_data: bool = False) -> None:
        """Stop every node this object started (nothing else) and remove the temporary directory."""
        for i in sorted(self._started, reverse=True):
            try:
                self.stop(i)
            except Exception:  # noqa: BLE001 - teardown goes on: kill whatever is left below
                pid = self.nodes[i].pid()
                if pid is not None:
                    _kill(pid)
        self._started.clear()
        if not keep_data:
            shutil.rmtree(self.root, ignore_errors=True)

    # ------------------------------------------------------------------ what tests read
    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def amqp_url(self) -> str:
        """Every node's URL, comma-separated: the multi-address AMQP_URL (docs/deploy.md)."""
        return ",".join(self.urls)

    def running(self) -> list[int]:
        return sorted(self._started)

    def index_of(self, node_name: str) -> int:
        return next(i for i, node in enumerate(self.nodes) if node.name == node_name)

    def leader_index(self, queue: str, vhost: str = "/") -> int:
        """Which node leads quorum queue `queue` (asked of any running node)."""
        return self.index_of(self.queue_leaders(vhost)[queue])

    def queue_leaders(self, vhost: str = "/") -> dict[str, str]:
        """{queue: leader node name} for the quorum queues of `vhost` (classic queues: their node)."""
        out = self.ctl(self.running()[0], "list_queues", "-p", vhost, "--quiet", "--no-table-headers",
                       "name", "type", "leader", "pid").stdout
        leaders = {}
        for line in out.splitlines():
            parts = line.split("\t")
            if len(parts) < 4:
                continue
            name, kind, leader, pid = parts[:4]
            leaders[name] = leader if kind == "quorum" else _node_of_pid(pid)
        return leaders

    def queue_members(self, queue: str, vhost: str = "/") -> list[str]:
        out = self.ctl(self.running()[0], "list_queues", "-p", vhost, "--quiet", "--no-table-headers",
                       "name", "members").stdout
        for line in out.splitlines():
            name, _, members = line.partition("\t")
            if name == queue:
                return [m.strip(" []'\"") for m in members.split(",") if m.strip(" []'\"")]
        return []

    def ctl(self, index: int, *args: str, check: bool = True, tool: str = "rabbitmqctl") -> subprocess.CompletedProcess:
        """Run a RabbitMQ CLI tool (`rabbitmqctl`, `rabbitmq-queues`, …) against node `index`."""
        result = subprocess.run([str(RABBITMQ_BIN / tool), "-n", self.nodes[index].name, *args],
                                env=self._cli_env(), capture_output=True, text=True, timeout=CLI_TIMEOUT)
        if check and result.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} on {self.nodes[index].name} failed "
                               f"({result.returncode}): {result.stderr.strip() or result.stdout.strip()}")
        return result

    # ------------------------------------------------------------------ internals
    def _make_node(self, name: str, management: bool) -> RabbitNode:
        short = name.split("@")[0].rsplit("-", 1)[1]
        base = self.root / f"node{short}"
        base.mkdir()
        node = RabbitNode(name=name, amqp_port=free_port(), dist_port=free_port(),
                          management_port=free_port() if management else None, base=base)
        lines = [f"listeners.tcp.1 = 127.0.0.1:{node.amqp_port}",
                 # A node this small must not stop publishers because the shared machine is busy.
                 "disk_free_limit.absolute = 50MB",
                 "vm_memory_high_watermark.relative = 0.8"]
        plugins = []
        if management:
            lines += [f"management.tcp.port = {node.management_port}", "management.tcp.ip = 127.0.0.1"]
            plugins.append("rabbitmq_management")
        (base / "rabbitmq.conf").write_text("\n".join(lines) + "\n")
        (base / "enabled_plugins").write_text(f"[{','.join(plugins)}].\n")
        return node

    def _base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("RABBITMQ_", "ERL_")) and k != "HOME"}
        env.update(HOME=str(self._cookie_home), LC_ALL="C.UTF-8", ERL_EPMD_ADDRESS="127.0.0.1",
                   RABBITMQ_CONF_ENV_FILE=str(self.root / "rabbitmq-env.conf"))
        return env

    def _cli_env(self) -> dict[str, str]:
        return self._base_env()

    def _spawn(self, index: int) -> None:
        node = self.nodes[index]
        env = self._base_env()
        env.update(
            RABBITMQ_NODENAME=node.name,
            RABBITMQ_DIST_PORT=str(node.dist_port),
            RABBITMQ_CONFIG_FILE=str(node.base / "rabbitmq.conf"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(node.base / "enabled_plugins"),
            RABBITMQ_MNESIA_BASE=str(node.base / "mnesia"),
            RABBITMQ_LOG_BASE=str(node.base / "log"),
            RABBITMQ_PID_FILE=str(node.pid_file),
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}",
        )
        subprocess.run([str(RABBITMQ_BIN / "rabbitmq-server"), "-detached"], env=env, check=True,
                       capture_output=True, timeout=CLI_TIMEOUT)
        self._started.add(index)

    def _wait_started(self, index: int) -> None:
        node = self.nodes[index]
        deadline = time.monotonic() + START_TIMEOUT
        while not node.pid_file.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{node.name} wrote no pid file in {START_TIMEOUT:.0f}s; see {node.base / 'log'}")
            time.sleep(0.2)
        self.ctl(index, "wait", str(node.pid_file), "--timeout", str(int(START_TIMEOUT)))

    def _wait_amqp(self, index: int) -> None:
        node = self.nodes[index]
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with socket.create_connection(("127.0.0.1", node.amqp_port), timeout=2):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{node.name} does not listen on {node.amqp_port}; "
                                       f"see {node.base / 'log'}") from None
                time.sleep(0.2)


def _node_of_pid(pid: str) -> str:
    # A classic queue's pid prints as <node@host.1.2.3>.
    return pid.strip("<>").rsplit(".", 3)[0]


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _wait_gone(pid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    _kill(pid)
