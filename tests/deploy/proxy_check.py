"""The compose stack's reverse proxy, for real: nginx runs deploy/compose/nginx.conf.template in
front of the processes package_check started, and a request for each service must reach it.

Only the addresses change: the template's upstreams (`http://orders-api:8001` …, found through
Docker's DNS in compose) become the local processes' ports, and the listen ports free ones.
test_routing.py checks every route against the same regexes in Python; this checks that nginx
reads them the same way (PCRE, location order, `proxy_pass` with a variable keeping the URI).
"""
from __future__ import annotations

import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# (method, path, Host, what only the right service answers)
PROBES = [
    ("GET", "/", "tillkey.localhost", "orders", lambda s, h, b: s == 200 and b"<html" in b.lower()),
    ("GET", "/v1/payment-methods", "tillkey.localhost", "payments", lambda s, h, b: s == 200 and b"bank_transfer" in b),
    ("GET", "/pay/static/pay.js", "tillkey.localhost", "payments", lambda s, h, b: s == 200),
    # Without a credential the owning service answers 401; orders, the catch-all, has no such route (404).
    ("GET", "/v1/orders/ord_x/deliveries", "tillkey.localhost", "fulfillment", lambda s, h, b: s == 401),
    ("GET", "/v1/products/prod_x/licenses/stats", "tillkey.localhost", "fulfillment", lambda s, h, b: s == 401),
    ("GET", "/v1/messages", "tillkey.localhost", "notifications", lambda s, h, b: s == 401),
    ("GET", "/v1/webhook-endpoints", "tillkey.localhost", "webhooks", lambda s, h, b: s == 401),
    ("GET", "/v1/orders/ord_x/payments", "tillkey.localhost", "payments", lambda s, h, b: s == 401),
    # The dashboard's own host, wholly; its sign-in page is nowhere on the platform's host.
    ("GET", "/login", "dashboard.localhost", "dashboard", lambda s, h, b: s == 200 and b"Tillkey dashboard" in b),
    ("GET", "/login", "tillkey.localhost", "orders", lambda s, h, b: s == 404),
    # The sandbox's own host: its CORS preflight for tokenizing is its alone.
    ("OPTIONS", "/v1/tokens", "sandbox.localhost", "sandbox",
     lambda s, h, b: s < 300 and h.get("Access-Control-Allow-Origin") == "*"),
]


def render(ports: dict[str, int], public: int, health: int) -> str:
    text = (ROOT / "deploy/compose/nginx.conf.template").read_text()
    text = re.sub(r"http://(\w+)-api:\d+", lambda m: f"http://127.0.0.1:{ports[m.group(1)]}", text)
    text = text.replace("http://sandbox-gateway:8009", f"http://127.0.0.1:{ports['sandbox']}")
    return text.replace("${PUBLIC_PORT}", str(public)).replace("listen 8081;", f"listen 127.0.0.1:{health};")


def request(port: int, method: str, path: str, host: str) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, headers={"Host": host})
    try:
        with urllib.request.urlopen(req, timeout=5) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as failed:
        return failed.code, dict(failed.headers), failed.read()


def check_proxy(ports: dict[str, int], public: int, health: int, work: Path) -> int:
    """Start nginx, send every probe through it, stop it. Returns the number of probes passed."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise SystemExit("package-check: nginx is needed to check the compose proxy (apt-get install nginx-light)")
    conf = work / "nginx"
    conf.mkdir()
    (conf / "site.conf").write_text(render(ports, public, health))
    (conf / "nginx.conf").write_text(
        f"daemon off;\npid {conf}/nginx.pid;\nerror_log {conf}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log {conf}/access.log;\n  client_body_temp_path {conf};\n  proxy_temp_path {conf};\n"
        f"  include {conf}/site.conf;\n}}\n")
    proc = subprocess.Popen([nginx, "-c", str(conf / "nginx.conf"), "-p", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=open(conf / "stderr.log", "wb"))
    try:
        deadline = time.monotonic() + 10
        while request_or_none(health) != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"package-check: nginx did not start: {(conf / 'stderr.log').read_text()}")
            time.sleep(0.1)
        wrong = []
        for method, path, host, service, right in PROBES:
            status, headers, body = request(public, method, path, host)
            if not right(status, headers, body):
                wrong.append(f"{method} {host}{path} → {status} (expected {service})")
        if wrong:
            raise SystemExit("package-check: through the proxy: " + "; ".join(wrong))
        return len(PROBES)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def request_or_none(port: int) -> int | None:
    try:
        return request(port, "GET", "/healthz", "localhost")[0]
    except OSError:
        return None
