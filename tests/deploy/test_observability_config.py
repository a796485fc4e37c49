"""deploy/observability holds: the alert rules and the Grafana dashboard parse, use only metrics the
code exports (promtool is not available here: this is the check CI can make), and every alert
points to its section of docs/operations.md."""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ALERTS = yaml.safe_load((ROOT / "deploy/observability/alerts.yaml").read_text())
DASHBOARD = json.loads((ROOT / "deploy/observability/grafana-dashboard.json").read_text())
RUNBOOK = (ROOT / "docs/operations.md").read_text()
# Where the code names a metric: the prometheus_client objects and the gauges computed at scrape time.
DEFINED = re.compile(r'\b(Counter|Histogram|ScrapeCollector|query_gauge)\(\s*"(tillkey_[a-z_]+)"')
SUFFIXES = {"Counter": ("_total",), "Histogram": ("_bucket", "_count", "_sum")}
USED = re.compile(r"\btillkey_[a-z_]+\b")


def exported() -> set[str]:
    names = set()
    for source in [*ROOT.glob("libs/*/src/**/*.py"), *ROOT.glob("services/*/src/**/*.py")]:
        for kind, name in DEFINED.findall(source.read_text()):
            names.update(name + suffix for suffix in SUFFIXES.get(kind, ("",)))
    return names


def rules() -> list[dict]:
    return [rule for group in ALERTS["groups"] for rule in group["rules"]]


def expressions() -> list[str]:
    return [r["expr"] for r in rules()] + [t["expr"] for p in DASHBOARD["panels"] for t in p["targets"]]


def test_the_code_exports_the_metrics_we_rely_on():
    names = exported()
    # The scan itself must see the metrics the issue asks for, or it proves nothing.
    assert {"tillkey_http_requests_total", "tillkey_http_request_duration_seconds_bucket",
            "tillkey_messages_total", "tillkey_outbox_backlog", "tillkey_queue_messages",
            "tillkey_license_pool_low_available", "tillkey_emails"} <= names


def test_alerts_and_dashboard_use_only_exported_metrics():
    names = exported()
    unknown = {(expr, used) for expr in expressions() for used in USED.findall(expr) if used not in names}
    assert unknown == set()


def test_expressions_are_balanced():
    for expr in expressions():
        for open_, close in ("()", "{}", "[]"):
            assert expr.count(open_) == expr.count(close), expr


def test_every_alert_is_complete_and_has_its_runbook_section():
    headings = {re.sub(r"[^a-z0-9-]", "", h.strip().lower().replace(" ", "-"))
                for h in re.findall(r"^#+ (.+)$", RUNBOOK, re.M)}
    for rule in rules():
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        anchor = rule["annotations"]["runbook"].split("#", 1)[1]
        assert rule["annotations"]["runbook"].startswith("docs/operations.md#") and anchor in headings, rule["alert"]


def test_dashboard_panels_have_unique_ids_and_a_query():
    ids = [p["id"] for p in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids)) and all(p["targets"] and p["targets"][0]["expr"] for p in DASHBOARD["panels"])
