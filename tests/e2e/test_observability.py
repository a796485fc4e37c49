"""Issue 13 through the real processes: /metrics of every API (gunicorn, two workers) and every
worker, JSON log lines that follow one order's correlation id through all five services, and
nothing personal or secret in any log."""
import json
import uuid

import pytest
import requests

from tillkey.devtools.topology import SERVICES
from tillkey.testing.metrics import scrape, total, wait_for
from tillkey.testing.receiver import Receiver

pytestmark = pytest.mark.e2e

# Two gunicorn workers per API: /metrics must sum both (multiprocess mode). The default level
# (INFO): a consumer's line per handled message is what follows the correlation id.
PLATFORM_ENV = {"WEB_CONCURRENCY": "2", "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
CARD = "4242424242424242"


def worker_metrics(platform, service: str) -> dict:
    return scrape(f"http://127.0.0.1:{platform.config.ports[service + '_metrics']}/metrics")


def test_api_metrics_count_every_request_across_gunicorn_workers(platform):
    url = platform.config.url("orders")
    before = total(scrape(f"{url}/metrics"), "tillkey_http_requests_total", route="/healthz", status="200")
    with requests.Session() as http:  # a kept connection still lands on either worker over 40 calls
        for _ in range(40):
            assert http.get(f"{url}/healthz", headers={"Connection": "close"}, timeout=5).ok
    after = scrape(f"{url}/metrics")
    assert total(after, "tillkey_http_requests_total", route="/healthz", status="200") - before == 40
    assert total(after, "tillkey_http_request_duration_seconds_count", route="/healthz", method="GET") >= 40
    assert total(after, "tillkey_broker_up", service="orders") == 1.0


def test_one_order_is_one_story_in_metrics_and_logs(platform, client):
    merchant = client.new_merchant()
    product = client.new_product(merchant["api_key"])
    story = f"corr-{uuid.uuid4().hex[:12]}"
    email = f"ada.{uuid.uuid4().hex[:8]}@example.com"
    with Receiver() as receiver:
        client.new_endpoint(merchant["api_key"], f"{receiver.url}/hooks")
        client.http.headers["X-Correlation-ID"] = story  # the checkout starts the story
        try:
            checkout = client.checkout(product["product_id"], email=email)
        finally:
            del client.http.headers["X-Correlation-ID"]
        client.pay_when_ready(checkout, card=CARD)
        client.wait_order(checkout["order_id"], merchant["api_key"], lambda o: o["status"] == "paid")
        receiver.wait_for(lambda rs: any(r.json()["type"] == "payment.succeeded" for r in rs))

    for service in SERVICES:
        samples = wait_for(lambda s=service: (m := worker_metrics(platform, s))
                           and total(m, "tillkey_outbox_backlog", service=s) == 0 and m, f"{service}'s backlog")
        assert total(samples, "tillkey_messages_total", outcome="handled") > 0, service
        assert total(samples, "tillkey_message_handler_duration_seconds_count") > 0, service
        assert total(samples, "tillkey_queue_messages", queue=f"{service}.events.dead") == 0
        assert total(samples, "tillkey_broker_up") == 1.0
    assert total(worker_metrics(platform, "orders"), "tillkey_outbox_published_total") > 0
    webhooks = wait_for(lambda: (m := worker_metrics(platform, "webhooks"))
                        and total(m, "tillkey_webhook_deliveries", status="pending") == 0 and m, "webhooks sent")
    assert total(webhooks, "tillkey_webhook_endpoints", state="healthy") >= 1
    assert total(webhooks, "tillkey_webhook_endpoints", state="disabled") == 0
    emails = worker_metrics(platform, "notifications")
    assert {dict(ls)["status"] for (n, ls) in emails if n == "tillkey_emails"} == {"queued", "deferred", "failed"}
    assert total(emails, "tillkey_emails", status="failed") == 0
    for service, loop in (("orders", "lifecycle"), ("payments", "gateway-sweeper")):
        lag = total(worker_metrics(platform, service), "tillkey_scheduler_seconds_since_last_run", loop=loop)
        assert 0 <= lag < 120, (service, lag)
    payments = scrape(f"{platform.config.url('payments')}/metrics")
    assert total(payments, "tillkey_http_requests_total", route="/v1/orders/<order_id>/payments",
                 method="POST", status="201") >= 1

    lines = log_lines(platform)
    told = {line["service"] for line in lines if line.get("correlation_id") == story}
    assert told == set(SERVICES), f"the story {story} reached only {told}"
    secrets = [email, checkout["order_token"], CARD, platform.config.platform_secret, platform.config.admin_token,
               merchant["api_key"]]
    raw = "\n".join(json.dumps(line) for line in lines)
    assert [s for s in secrets if s in raw] == []


def log_lines(platform) -> list[dict]:
    """Every line of every API's and worker's log, each one a JSON object (asserted)."""
    out = []
    for path in sorted(platform.log_dir.glob("*-api.log")) + sorted(platform.log_dir.glob("*-worker.log")):
        for text in path.read_text().splitlines():
            if text.strip():
                try:
                    out.append(json.loads(text))
                except ValueError:
                    raise AssertionError(f"{path.name}: not a JSON line: {text[:300]}") from None
    assert {line["process"] for line in out} == {"api", "worker"}
    return out
