"""`make bench`: what a merchant feels, through the real processes as `make run` starts them.

For each database (SQLite, then PostgreSQL) on a fresh platform: one product with a license pool,
one webhook endpoint subscribed to `*` on a minimal receiver (its own process), then
1. light load: LIGHT_ORDERS orders with 2 customers — e2e latency checkout → `order.delivered`;
2. saturation: ORDERS orders with 16 customers — full orders/s, latency, CPU per order (whole
   machine from /proc/stat minus this load generator), per process, SQL statements and broker
   messages per order, and a check that every order was delivered and every webhook and email
   went out once;
3. order creation alone: wrk -t2 -c16 POST /v1/carts/{id}/checkout on pre-made carts.
Writes artifacts/bench/bench.json and bench.png and prints a table. See docs/benchmark.md.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import procstats
import report
from loadgen import Http, Load

from tillkey.devtools.launcher import Platform, free_port
from tillkey.devtools.topology import DEFAULT_PORTS, PlatformConfig, processes
from tillkey.testing import databases, servers
from tillkey.testing.platform_client import PlatformClient

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SERVICES = ("orders", "payments", "fulfillment", "notifications", "webhooks")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--orders", type=int, default=600)
    parser.add_argument("--light-orders", type=int, default=20)
    parser.add_argument("--customers", type=int, default=16)
    parser.add_argument("--creation-seconds", type=int, default=8)
    parser.add_argument("--settle-delay", default="0s",
                        help="the sandbox gateway's simulated wait before a charge's result (its own default is "
                             "200ms, a provider's time, not Tillkey's; 0s measures the platform alone)")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy every platform process during saturation (slows it; figures not comparable)")
    parser.add_argument("--profile-gil", action="store_true",
                        help="with --profile: sample only the thread holding the GIL (Python's own CPU; "
                             "waits on the database, broker or network are left out)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the PostgreSQL databases (their names are printed) to look at afterwards")
    parser.add_argument("--out", default=str(ROOT / "artifacts" / "bench"))
    args = parser.parse_args()
    amqp_server = servers.resolve("amqp")[0]
    postgres_server = servers.resolve("postgres")[0] if "postgresql" in args.databases else None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    host = machine()  # before the platform starts: the speed probe wants a quiet machine
    runs = []
    for kind in args.databases.split(","):
        runs.append(Bench(kind, amqp_server, postgres_server, args, out).run())
    result = {"machine": host, "sandbox_settle_delay": args.settle_delay,
              "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": runs}
    (out / "bench.json").write_text(json.dumps(result, indent=2))
    report.plot(result, out / "bench.png")
    print(report.table(result))
    print(f"\nwritten: {out / 'bench.json'}, {out / 'bench.png'}")
    failures = [f"{r['database']}: {p}" for r in runs for p in r["problems"]]
    if failures:
        print("\nPROBLEMS:\n  " + "\n  ".join(failures))
        sys.exit(1)


def machine() -> dict:
    return {"cores": os.cpu_count(), "python": sys.version.split()[0],
            "python_speed_ms": procstats.python_speed_ms()}


class Bench:
    def __init__(self, kind: str, amqp_server: str, postgres_server: str | None, args, out: Path):
        self.kind, self.args, self.out = kind, args, out
        self.amqp_server, self.postgres_server = amqp_server, postgres_server
        self.problems: list[str] = []

    def run(self) -> dict:
        data_dir = Path(tempfile.mkdtemp(prefix=f"tillkey-bench-{self.kind}-"))
        amqp_url, vhost = servers.create_vhost(self.amqp_server)
        db_urls = ({s: databases.create_postgres_database(self.postgres_server) for s in SERVICES}
                   if self.kind == "postgresql" else {})
        self.stats_dir = data_dir / "stats"
        config = PlatformConfig(amqp_url=amqp_url, data_dir=data_dir,
                                ports={name: free_port() for name in DEFAULT_PORTS},
                                database_urls=db_urls, extra_env={
                                    "TILLKEY_STATS_DIR": str(self.stats_dir), "LOG_LEVEL": "WARNING",
                                    "SANDBOX_SETTLE_DELAY": self.args.settle_delay,
                                    # Every shopper of the run comes from 127.0.0.1: the limit per
                                    # address is raised (still counted: its cost is measured).
                                    "RATE_LIMIT_PER_ADDRESS": "10000000/minute"})
        self.platform = Platform(config)
        receiver_port = free_port()
        self.hooks_file = data_dir / "webhooks.log"
        receiver = subprocess.Popen([sys.executable, str(HERE / "bench_receiver.py"), "--port", str(receiver_port),
                                     "--out", str(self.hooks_file)], stdout=subprocess.PIPE)
        receiver.stdout.readline()
        print(f"[bench] {self.kind}: starting the platform in {data_dir}", flush=True)
        try:
            self.platform.start(only=[n for n in processes(config) if n != "demo-receiver"])
            self.urls = {name: config.url(name) for name in (*SERVICES, "sandbox")}
            product_id = self.seed(f"http://127.0.0.1:{receiver_port}/hooks")
            roots = {name: proc.pid for name, proc in self.platform.procs.items()}
            roots["webhook-receiver"] = receiver.pid
            self.groups = procstats.Groups(roots)
            result = {"database": self.kind}
            self.phase("warm-up", product_id, 10, 4)
            result["idle"] = self.idle()
            result["light"] = self.phase("light", product_id, self.args.light_orders, 2)
            result["saturation"] = self.phase("saturation", product_id, self.args.orders, self.args.customers,
                                              measure=True)
            result["creation"] = self.creation(product_id)
            result["problems"] = self.problems
            return result
        except Exception:
            print(self.platform.logs())
            raise
        finally:
            self.platform.stop()
            receiver.terminate()
            receiver.wait(10)
            servers.delete_vhost(vhost)
            for url in db_urls.values():
                if self.args.keep:
                    print(f"[bench] kept {url}", flush=True)
                else:
                    databases.drop_postgres_database(self.postgres_server, url)

    def seed(self, hooks_url: str) -> str:
        client = PlatformClient(self.urls, self.platform.config.admin_token)
        merchant = client.new_merchant("Bench Software")
        key = merchant["api_key"]
        product = client.new_product(key, "Bench Editor")
        pid = product["product_id"]
        client.call("fulfillment", "PUT", f"/v1/products/{pid}/license-source", key, expect=200,
                    json={"method": "pool", "low_stock_threshold": 1})
        needed = 10 + self.args.light_orders + self.args.orders + 50
        for start in range(0, needed, 1000):
            client.call("fulfillment", "POST", f"/v1/products/{pid}/licenses", key, expect=201, json={
                "keys": [f"BENCH-{i:07d}" for i in range(start, min(needed, start + 1000))]})
        client.new_endpoint(key, hooks_url, ["*"])
        return pid

    # -- full orders -------------------------------------------------------------------
    def phase(self, name: str, product_id: str, orders: int, customers: int, measure: bool = False) -> dict:
        load = Load(self.urls, product_id)
        before = self.measure_point() if measure else None
        profilers = self.start_profilers(name) if measure and self.args.profile else []
        load_seconds = load.run(orders, customers)
        delivered = self.wait_delivered({s.order_id for s in load.started})
        after = self.measure_point() if measure else None
        for p in profilers:
            p.wait(60)
        started_at = min(s.checkout_at for s in load.started) if load.started else time.time()
        latencies = sorted(delivered[s.order_id] - s.checkout_at for s in load.started if s.order_id in delivered)
        wall = (max(delivered.values()) - started_at) if delivered else float("nan")
        out = {"orders": orders, "customers": customers, "load_seconds": round(load_seconds, 2),
               "delivered": len(delivered), "errors": load.errors[:5], "error_count": len(load.errors),
               "not_ready_waits": load.not_ready_waits,
               "orders_per_second": round(len(delivered) / wall, 2) if delivered else 0.0,
               "latency_ms": percentiles(latencies)}
        out["webhook_p50_ms_after_checkout"] = self.timeline(load.started)
        if len(delivered) < orders or load.errors:
            self.problems.append(f"{name}: {len(delivered)}/{orders} delivered, {len(load.errors)} errors "
                                 f"{load.errors[:2]}")
        if measure:
            out.update(self.costs(before, after, len(delivered)))
            self.check_once()
        print(f"[bench] {self.kind} {name}: {json.dumps(out)}", flush=True)
        return out

    def timeline(self, started) -> dict[str, float]:
        """Where the latency goes: the median arrival of each webhook type after the checkout."""
        checkout = {s.order_id: s.checkout_at for s in started}
        after: dict[str, list[float]] = {}
        for s in started:
            after.setdefault("(checkout answered)", []).append(s.answered_at - s.checkout_at)
            if s.paid_at:
                after.setdefault("(payment accepted)", []).append(s.paid_at - s.checkout_at)
        for at, _id, kind, order in self.webhooks():
            if order in checkout:
                after.setdefault(kind, []).append(at - checkout[order])
        return {kind: percentiles(sorted(v))["p50"] for kind, v in sorted(after.items(), key=lambda kv: min(kv[1]))}

    def wait_delivered(self, order_ids: set[str], timeout: float = 300) -> dict[str, float]:
        deadline = time.monotonic() + timeout
        while True:
            delivered = {order: at for at, _id, kind, order in self.webhooks()
                         if kind == "order.delivered" and order in order_ids}
            if len(delivered) >= len(order_ids) or time.monotonic() > deadline:
                return delivered
            time.sleep(0.05)

    def webhooks(self) -> list[tuple[float, str, str, str]]:
        if not self.hooks_file.exists():
            return []
        rows = []
        for line in self.hooks_file.read_text().splitlines():
            parts = line.split()
            if len(parts) == 4:
                rows.append((float(parts[0]), parts[1], parts[2], parts[3]))
        return rows

    def measure_point(self) -> dict:
        busy, steal = procstats.machine_cpu_seconds()
        return {"busy": busy, "steal": steal, "self": procstats.self_cpu_seconds(),
                "procs": procstats.snapshot(), "work": self.work_counts(), "wall": time.time()}

    def work_counts(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for path in self.stats_dir.glob("*.json"):
            try:
                for key, value in json.loads(path.read_text()).items():
                    totals[key] = totals.get(key, 0) + value
            except ValueError:
                continue
        return totals

    def costs(self, before: dict, after: dict, orders: int) -> dict:
        time.sleep(1.2)  # the counters are written twice a second
        after["work"] = self.work_counts()
        n = max(orders, 1)
        platform_cpu = (after["busy"] - before["busy"]) - (after["self"] - before["self"])
        cpu_before, cpu_after = self.groups.cpu(before["procs"]), self.groups.cpu(after["procs"])
        per_process = {name: round(1000 * (cpu_after.get(name, 0) - cpu_before.get(name, 0)) / n, 2)
                       for name in cpu_after}
        work = {k: round((after["work"].get(k, 0) - before["work"].get(k, 0)) / n, 2) for k in after["work"]}
        return {"cpu_ms_per_order": round(1000 * platform_cpu / n, 2),
                "load_generator_cpu_ms_per_order": round(1000 * (after["self"] - before["self"]) / n, 2),
                "steal_ms_per_order": round(1000 * (after["steal"] - before["steal"]) / n, 2),
                "cpu_ms_per_order_by_process": dict(sorted(per_process.items(), key=lambda kv: -kv[1])),
                "per_order": work,
                "peak_rss_mib": self.groups.peak_rss_mib(procstats.snapshot())}

    def check_once(self) -> None:
        """Every webhook arrived once (the receiver never fails one), every email went once."""
        ids = [row[1] for row in self.webhooks()]
        if len(ids) != len(set(ids)):
            self.problems.append(f"{len(ids) - len(set(ids))} webhooks arrived twice")
        mails = self.platform.mails()
        message_ids = [m["Message-ID"] for m in mails]
        if len(message_ids) != len(set(message_ids)):
            self.problems.append(f"{len(message_ids) - len(set(message_ids))} emails sent twice")

    def start_profilers(self, name: str, seconds: int | None = None, only: tuple[str, ...] = ()) -> list:
        folder = self.out / "profiles" / (self.kind if name == "saturation" else f"{self.kind}-{name}")
        folder.mkdir(parents=True, exist_ok=True)
        spy = Path(sys.executable).parent / "py-spy"
        seconds = seconds or max(10, int(self.args.orders / 10))
        procs = []
        for proc_name, proc in self.platform.procs.items():
            if only and proc_name not in only:
                continue
            for member in procstats.tree(procstats.snapshot(), proc.pid):
                if "python" not in member.comm and "tillkey" not in member.comm and "gunicorn" not in member.comm:
                    continue
                procs.append(subprocess.Popen(
                    [str(spy), "record", "--pid", str(member.pid), "--duration", str(seconds), "--rate", "50",
                     "--format", "raw", "--nonblocking", *(["--gil"] if self.args.profile_gil else []),
                     "-o", str(folder / f"{proc_name}-{member.pid}.txt")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        return procs

    def idle(self, seconds: float = 10.0) -> dict:
        """CPU of the platform's own processes (not the broker or database) with no traffic."""
        time.sleep(3)  # the warm-up's last events settle
        platform = [n for n in self.groups.roots if n != "webhook-receiver"]
        before = self.groups.cpu(procstats.snapshot())
        time.sleep(seconds)
        after = self.groups.cpu(procstats.snapshot())
        by_process = {n: round(100 * (after[n] - before[n]) / seconds, 2) for n in platform}
        out = {"percent_of_a_core": round(sum(by_process.values()), 2),
               "by_process": dict(sorted(by_process.items(), key=lambda kv: -kv[1]))}
        print(f"[bench] {self.kind} idle: {json.dumps(out)}", flush=True)
        return out

    # -- order creation alone ---------------------------------------------------------------
    def creation(self, product_id: str) -> dict:
        carts_needed = 500 * self.args.creation_seconds
        body = {"lines": [{"product_id": product_id, "quantity": 1}]}

        def make_carts(count: int) -> list[str]:
            http_ = Http()
            try:
                return [http_.post(f"{self.urls['orders']}/v1/carts", body)[1]["cart_id"] for _ in range(count)]
            finally:
                http_.close()

        with ThreadPoolExecutor(4) as pool:
            carts = [c for chunk in pool.map(make_carts, [carts_needed // 4] * 4) for c in chunk]
        carts_file = self.platform.config.data_dir / "carts.txt"
        carts_file.write_text("\n".join(carts) + "\n")
        time.sleep(2)  # let the cart creation's events settle
        env = {**os.environ, "CARTS_FILE": str(carts_file), "WRK_THREADS": "2"}
        profilers = (self.start_profilers("creation", self.args.creation_seconds, only=("orders-api",))
                     if self.args.profile else [])
        proc = subprocess.run(["wrk", "-t2", "-c16", f"-d{self.args.creation_seconds}s", "--timeout", "10s",
                               "-s", str(HERE / "checkout.lua"), self.urls["orders"]],
                              env=env, capture_output=True, text=True, timeout=120)
        for p in profilers:
            p.wait(60)
        line = next((x for x in proc.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
        if line is None:
            self.problems.append(f"wrk printed no result: {proc.stdout[-500:]} {proc.stderr[-500:]}")
            return {}
        res = json.loads(line.split(" ", 1)[1])
        seconds = res["duration_us"] / 1e6
        ok = res["requests"] - res["non_2xx"] - res["socket_errors"]
        out = {"connections": 16, "orders_per_second": round(ok / seconds, 1), "p50_ms": res["p50_ms"],
               "p99_ms": res["p99_ms"], "max_ms": res["max_ms"], "requests": res["requests"],
               "non_2xx": res["non_2xx"], "socket_errors": res["socket_errors"], "carts_made": len(carts)}
        if res["non_2xx"] or res["socket_errors"]:
            self.problems.append(f"order creation: {res['non_2xx']} non-2xx, {res['socket_errors']} socket errors")
        print(f"[bench] {self.kind} creation: {json.dumps(out)}", flush=True)
        return out


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50": None, "p99": None, "max": None}

    def at(q: float) -> float:
        return round(1000 * values[min(len(values) - 1, int(q * len(values)))], 1)

    return {"p50": at(0.5), "p99": at(0.99), "max": round(1000 * values[-1], 1)}


if __name__ == "__main__":
    main()
