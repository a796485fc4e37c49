"""The benchmark's table (printed) and plot (PNG): throughput and latency per database."""
from __future__ import annotations

from pathlib import Path

TARGETS = [  # (label, path into a run, target, higher is better)
    ("full orders/s at 16 customers", ("saturation", "orders_per_second"), None, True),
    ("CPU ms per full order", ("saturation", "cpu_ms_per_order"), 30, False),
    ("  of which hypervisor steal", ("saturation", "steal_ms_per_order"), None, False),
    ("e2e p50 ms, 2 customers", ("light", "latency_ms", "p50"), 300, False),
    ("e2e p99 ms, 2 customers", ("light", "latency_ms", "p99"), 1000, False),
    ("e2e p50 ms, 16 customers", ("saturation", "latency_ms", "p50"), None, False),
    ("e2e p99 ms, 16 customers", ("saturation", "latency_ms", "p99"), None, False),
    ("order creation/s, 16 conns", ("creation", "orders_per_second"), 240, True),
    ("order creation p50 ms", ("creation", "p50_ms"), None, False),
    ("order creation p99 ms", ("creation", "p99_ms"), 250, False),
    ("SQL statements per order", ("saturation", "per_order", "sql_statements"), None, False),
    ("broker publishes per order", ("saturation", "per_order", "amqp_published"), None, False),
    ("broker deliveries per order", ("saturation", "per_order", "amqp_delivered"), None, False),
    ("idle platform, % of a core", ("idle", "percent_of_a_core"), 2, False),
]
FULL_ORDER_TARGETS = {"sqlite": 60, "postgresql": 50}


def get(run: dict, path: tuple):
    for key in path:
        if not isinstance(run, dict) or key not in run:
            return None
        run = run[key]
    return run


def table(result: dict) -> str:
    runs = result["runs"]
    head = f"{'':32}" + "".join(f"{r['database']:>14}" for r in runs) + "   target"
    lines = [head, "-" * len(head)]
    speed = get(result, ("machine", "python_speed_ms"))
    if speed is not None:
        lines.insert(0, f"host: {result['machine']['cores']} cores, Python {result['machine']['python']}, "
                        f"sum(range(10**6)) in {speed} ms of CPU (lower is faster; compare runs on like hosts)\n")
    for label, path, target, higher in TARGETS:
        cells = "".join(f"{_fmt(get(r, path)):>14}" for r in runs)
        if label.startswith("full orders"):
            goal = " / ".join(f"≥{FULL_ORDER_TARGETS.get(r['database'], '?')}" for r in runs)
        else:
            goal = "" if target is None else (f"≥{target}" if higher else f"≤{target}")
        lines.append(f"{label:32}{cells}   {goal}")
    lines.append("")
    for r in runs:
        split = get(r, ("saturation", "cpu_ms_per_order_by_process")) or {}
        top = ", ".join(f"{k} {v}" for k, v in list(split.items())[:8])
        lines.append(f"{r['database']}: CPU ms per order by process: {top}")
        per_order = get(r, ("saturation", "per_order")) or {}
        kinds = sorted(((v, k) for k, v in per_order.items() if k.startswith("sql[")), reverse=True)
        lines.append(f"{r['database']}: SQL statements per order by process and kind: "
                     + ", ".join(f"{k} {v}" for v, k in kinds[:30]))
    return "\n".join(lines)


def _fmt(value) -> str:
    if value is None:
        return "—"
    return f"{value:,.1f}" if isinstance(value, float) else str(value)


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = result["runs"]
    names = [r["database"] for r in runs]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    bars = [("full orders/s", ("saturation", "orders_per_second")),
            ("order creation/s", ("creation", "orders_per_second"))]
    width = 0.35
    for i, (label, p) in enumerate(bars):
        axes[0].bar([x + i * width for x in range(len(runs))], [get(r, p) or 0 for r in runs], width, label=label)
    axes[0].set_xticks([x + width / 2 for x in range(len(runs))], names)
    axes[0].set_title("throughput (per second)")
    axes[0].legend()
    for ax, phase in ((axes[1], "light"), (axes[2], "saturation")):
        for i, q in enumerate(("p50", "p99")):
            ax.bar([x + i * width for x in range(len(runs))],
                   [get(r, (phase, "latency_ms", q)) or 0 for r in runs], width, label=q)
        ax.set_xticks([x + width / 2 for x in range(len(runs))], names)
        ax.set_title(f"checkout → order.delivered, ms ({phase})")
        ax.legend()
    fig.suptitle(f"make bench — {result['at']}")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
