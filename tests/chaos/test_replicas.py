"""Competing replicas (issue 18, part 4): two of every worker process and two gunicorn workers per
API, on PostgreSQL, during a flow of ~30 full orders and a few checkouts nobody pays. Each order's
webhooks are numbered 1..n in the order things happened, no key goes out twice, each email goes
once, and the scheduled work both orders workers' schedulers compete for happens once per order:
a reminder, then the deletion of an unpaid order. Mid-flow the card gateway goes away for 3 s: the
attempts it misses fail at once and the customers pay again, with both payments workers' sweepers
running (how many charges they resumed is noted; no double charge is counted)."""
from __future__ import annotations

import subprocess
import time
from collections import Counter

import pytest

pytestmark = pytest.mark.chaos

UNPAID = 6
CHAOS_PLATFORM = {
    "worker_replicas": 2,
    "web_concurrency": 2,
    # Due within the run: a reminder after 3 s unpaid, the deletion after 20 s (each scheduler
    # looks every second; both orders workers run one).
    "extra_env": {"UNPAID_REMINDER_AFTER": "3s", "UNPAID_ORDER_TTL": "20s",
                  "LOG_LEVEL": "INFO"},  # the sweepers say at INFO what they resumed
}


def test_two_of_everything(chaos, chaos_tally):
    running = sorted(n for n in chaos.platform.procs if "#2" in n)
    assert len(running) == 5, running
    for name, proc in chaos.platform.procs.items():
        if name.endswith("-api"):  # the gunicorn master and its two workers
            workers = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
            assert len(workers) == 2, (name, workers)

    def scheduled_work_once(run, tally):
        unpaid = [o for o in run.orders if not o.paid]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(_deleted(run, o.order_id) for o in unpaid):
            time.sleep(0.5)
        time.sleep(3)  # a second scheduler's late duplicate would show up here
        webhooks, emails = run.webhooks(), run.emails()
        for order in unpaid:
            kinds = Counter(w["type"] for w in {w["_webhook_id"]: w for w in webhooks.get(order.order_id, [])}.values())
            reminders = [m for m in emails.get(order.email, []) if m.header("X-Tillkey-Template") == "payment_reminder"]
            if kinds["order.deleted"] != 1:
                tally.count("lost" if not kinds["order.deleted"] else "duplicated",
                            [f"{order.order_id}: {kinds['order.deleted']} order.deleted webhooks"])
            if len(reminders) != 1:
                tally.count("lost" if not reminders else "duplicated",
                            [f"{order.order_id}: {len(reminders)} payment reminders"])
        tally.notes.append(f"{len(unpaid)} unpaid orders: reminded and deleted, each once")

    def gateway_away():
        # An attempt that cannot reach the gateway fails at once (the customer is waiting) and the
        # flow pays again; the sweepers (PAYMENTS_GATEWAY_RESUBMIT_AFTER=5s) resume only charges an
        # API left unsubmitted, so they may find nothing: the note says.
        chaos.kill("sandbox-gateway")
        time.sleep(3)
        chaos.restart("sandbox-gateway")

    chaos.scenario(chaos_tally, gateway_away, unpaid=UNPAID, also=scheduled_work_once)
    chaos_tally.notes.append("charges the sweepers resumed: " + ", ".join(
        f"{log.stem}: {log.read_text(errors='replace').count('no gateway had acknowledged')} sweep(s)"
        for log in sorted(chaos.platform.log_dir.glob("payments-worker*.log"))))
    chaos_tally.check()


def _deleted(run, order_id: str) -> bool:
    return any(w["type"] == "order.deleted" for w in run.webhooks().get(order_id, []))
