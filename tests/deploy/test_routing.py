"""deploy/routing.md holds: every route of every service's app reaches that service through the
compose proxy (nginx) and through the Kubernetes Ingress, so a new route cannot be forgotten."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["orders", "payments", "fulfillment", "notifications", "webhooks"]
# Served by every app alike (probes, the shared assets, the front door): the catch-all takes them.
SHARED = re.compile(r"^/(healthz|readyz|readyz/broker|metrics|openapi\.json|favicon\.ico|assets/.*|static/.*)?$")
NGINX = (ROOT / "deploy/compose/nginx.conf.template").read_text()
INGRESS = yaml.safe_load((ROOT / "deploy/kubernetes/base/ingress.yaml").read_text())


def routes(service: str, tmp_path: Path) -> list[str]:
    config = importlib.import_module(f"tillkey.{service}.config")
    app = importlib.import_module(f"tillkey.{service}.entrypoints.app").create_app(
        config.Settings.from_env({f"{service.upper()}_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}))
    return sorted({rule.rule for rule in app.url_map.iter_rules()})


def sample(rule: str) -> str:
    """A concrete path for a Flask rule: every <variable> becomes an id-like segment."""
    return re.sub(r"<(?:path:)?[^>]+>", "x_1a2b", rule)


def nginx_upstream(path: str) -> str:
    """nginx: regex locations in the order written, the first match wins; else `location /`."""
    for regex, upstream in re.findall(r"location ~ (\S+)\s*\{ proxy_pass \$(\w+); \}", NGINX):
        if re.search(regex, path):
            return upstream
    return re.search(r"location / +\{ proxy_pass \$(\w+); \}", NGINX).group(1)


def ingress_service(path: str) -> str:
    """NGINX ingress with use-regex: each path is a regex anchored at the start. The controller
    orders them by itself, so more than one specific match would be a bug of its own."""
    paths = INGRESS["spec"]["rules"][0]["http"]["paths"]
    specific = [p for p in paths if p["path"] != "/" and re.match(p["path"], path)]
    assert len(specific) <= 1, f"{path} matches several Ingress paths: {[p['path'] for p in specific]}"
    chosen = specific[0] if specific else next(p for p in paths if p["path"] == "/")
    return chosen["backend"]["service"]["name"].removesuffix("-api")


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_of_the_service_reaches_it_through_both_proxies(service, tmp_path):
    own = [r for r in routes(service, tmp_path) if not SHARED.match(r)]
    assert own, f"{service} has no routes of its own?"
    wrong = {r: (nginx_upstream(sample(r)), ingress_service(sample(r))) for r in own
             if (nginx_upstream(sample(r)), ingress_service(sample(r))) != (service, service)}
    assert wrong == {}, f"routes of {service} that land elsewhere (nginx, ingress): {wrong}"


def test_the_catch_all_is_orders_and_both_tables_know_the_same_services():
    assert nginx_upstream("/anything") == ingress_service("/anything") == "orders"
    assert set(re.findall(r"set \$(\w+) http://(\w+)-api:", NGINX)) == {(s, s) for s in [*SERVICES, "dashboard"]}


def test_the_dashboard_has_a_host_of_its_own_in_both_proxies():
    """Its pages (/, /orders, /products …) share paths with orders' pages: it is served on its own
    host (dashboard.…), wholly, and on no path of the platform's host."""
    (server,) = [block for block in NGINX.split("\nserver {")[1:] if "server_name ~^dashboard\\.;" in block]
    assert re.findall(r"location (\S+) \{ proxy_pass \$(\w+); \}", server) == [("/", "dashboard")]
    assert "set $dashboard http://dashboard-api:8006;" in server
    assert nginx_upstream("/login") == "orders"  # the platform's host: the dashboard is not there
    ingress = yaml.safe_load((ROOT / "deploy/kubernetes/base/dashboard-ingress.yaml").read_text())
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"].startswith("dashboard.") and rule["host"] in ingress["spec"]["tls"][0]["hosts"]
    assert [(p["path"], p["backend"]["service"]["name"]) for p in rule["http"]["paths"]] == [("/", "dashboard-api")]
    assert all(p["backend"]["service"]["name"] != "dashboard-api"
               for r in INGRESS["spec"]["rules"] for p in r["http"]["paths"])
