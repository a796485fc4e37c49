"""CPU and memory from /proc: the whole machine, each process tree, the load generator itself."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, steal), CPU seconds over all cores, from one read of /proc/stat.

    busy: anything but idle and I/O wait, steal included (the issue's definition, kept so that
    figures compare across runs). steal: time the hypervisor gave this machine's cores to someone
    else while they had work; inside busy, but not work of ours (on a shared host it varies)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICK, steal / TICK


def python_speed_ms() -> float:
    """This host's speed for pure Python: CPU milliseconds of `sum(range(10**6))`, best of five
    (lower is faster). The same code's CPU per order moves with it from one host or day to
    another; figures compare only between runs with a similar value."""
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        sum(range(10**6))
        best = min(best, time.process_time() - started)
    return round(1000 * best, 1)


@dataclass
class Proc:
    pid: int
    ppid: int
    comm: str
    uid: int
    cpu: float  # seconds, user + system, of this process (threads included)
    hwm_kib: int  # peak resident set


def snapshot() -> dict[int, Proc]:
    procs = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            status = Path(entry.path, "status").read_text()
        except OSError:
            continue  # it exited while we looked
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        rest = stat[stat.rindex(")") + 2:].split()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        hwm = int(fields.get("VmHWM", "0 kB").split()[0])
        uid = int(fields.get("Uid", "0").split()[0])
        procs[int(entry.name)] = Proc(int(entry.name), int(rest[1]), comm, uid,
                                      (int(rest[11]) + int(rest[12])) / TICK, hwm)
    return procs


def tree(procs: dict[int, Proc], root: int) -> list[Proc]:
    """`root` and every descendant (a gunicorn master and its workers)."""
    children: dict[int, list[int]] = {}
    for p in procs.values():
        children.setdefault(p.ppid, []).append(p.pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            out.append(procs[pid])
        todo.extend(children.get(pid, []))
    return out


def user_processes(procs: dict[int, Proc], user: str) -> list[Proc]:
    import pwd

    try:
        uid = pwd.getpwnam(user).pw_uid
    except KeyError:
        return []
    return [p for p in procs.values() if p.uid == uid]


class Groups:
    """Named groups of processes (a service's API, the broker, the database) measured over a window."""

    def __init__(self, roots: dict[str, int]):
        self.roots = roots

    def members(self, procs: dict[int, Proc]) -> dict[str, list[Proc]]:
        groups = {name: tree(procs, pid) for name, pid in self.roots.items()}
        groups["rabbitmq"] = user_processes(procs, "rabbitmq")
        groups["postgresql"] = user_processes(procs, "postgres")
        return groups

    def cpu(self, procs: dict[int, Proc]) -> dict[str, float]:
        return {name: sum(p.cpu for p in members) for name, members in self.members(procs).items()}

    def peak_rss_mib(self, procs: dict[int, Proc]) -> dict[str, float]:
        return {name: round(sum(p.hwm_kib for p in members) / 1024, 1)
                for name, members in self.members(procs).items()}


def self_cpu_seconds() -> float:
    """This process's CPU (every thread) plus its waited-for children (wrk)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system
