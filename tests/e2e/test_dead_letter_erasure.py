"""Issue 18 (6) through the real processes: erasure reaches the messages the broker keeps.

An off-contract copy of an order's `order.created` (what a misbehaving producer or an old version
would send) is dead-lettered by every service that consumes order.created, customer and all. The
unpaid order is then deleted (docs/architecture.md §2.4): afterwards no queue of the vhost holds the customer's
email or names, and the dead letters are still there for support, redacted.
"""
import json
import subprocess
import uuid
from urllib.parse import unquote

import pika
import pytest

from tillkey.contracts import EXCHANGE
from tillkey.devtools.launcher import wait_until

pytestmark = pytest.mark.e2e

PLATFORM_ENV = {"UNPAID_REMINDER_AFTER": "1h", "UNPAID_ORDER_TTL": "10s", "SCHEDULER_INTERVAL": "1s"}
CONSUMERS_OF_ORDER_CREATED = ("payments", "fulfillment", "notifications", "webhooks")


def queues(amqp_url: str) -> list[str]:
    vhost = unquote(amqp_url.rsplit("/", 1)[1].split("?")[0]) or "/"
    out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name"], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    return [line.strip() for line in out.splitlines() if line.strip() and line.strip() != "name"]


def kept_messages(amqp_url: str) -> dict[str, list[tuple[dict, bytes]]]:
    """Every message in every queue of the vhost, (headers, body), all given back afterwards."""
    found = {}
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        ch = conn.channel()
        for queue in queues(amqp_url):
            count = ch.queue_declare(queue, passive=True).method.message_count
            found[queue] = []
            for _ in range(count):
                method, props, body = ch.basic_get(queue, auto_ack=False)
                if method is None:
                    break
                found[queue].append((dict(props.headers or {}), body))
    finally:
        conn.close()  # unacked: every message goes back
    return found


def holding(amqp_url: str, needles) -> list[str]:
    return [queue for queue, messages in kept_messages(amqp_url).items()
            for headers, body in messages
            if any(n.encode() in body + json.dumps(headers, default=str).encode() for n in needles)]


def test_a_deleted_orders_dead_letters_keep_no_personal_data(platform, client):
    amqp_url = platform.config.amqp_url
    merchant = client.new_merchant()
    product = client.new_product(merchant["api_key"])
    email, first, last = (f"dead.letter.{uuid.uuid4().hex[:8]}@example.com", f"First{uuid.uuid4().hex[:6]}",
                          f"Last{uuid.uuid4().hex[:6]}")
    checkout = client.checkout(product["product_id"], email=email, first_name=first, last_name=last,
                               company="Erase Me Ltd", payment_method="bank_transfer")
    order = client.order(checkout["order_id"], merchant["api_key"])

    # The order as order.created carries it, with a status no contract allows: every consumer
    # dead-letters it as invalid, the customer inside.
    poison = {"id": f"evt_{uuid.uuid4().hex}", "type": "order.created", "version": 1,
              "occurred_at": order["created_at"], "producer": "orders", "correlation_id": None,
              "causation_id": None, "data": {**order, "status": "lost"}}
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        ch.basic_publish(EXCHANGE, "order.created", json.dumps(poison).encode(), pika.BasicProperties(
            content_type="application/json", delivery_mode=2, message_id=poison["id"], type="order.created"),
            mandatory=True)
    finally:
        conn.close()
    needles = (email, first, last, "Erase Me Ltd")
    dead = [f"{s}.events.dead" for s in CONSUMERS_OF_ORDER_CREATED]
    wait_until(lambda: sorted(set(holding(amqp_url, needles))) == sorted(dead), 30,
               "every consumer of order.created to dead-letter the poison copy")

    client.wait_order(checkout["order_id"], merchant["api_key"], lambda o: o["status"] == "deleted", timeout=60)
    wait_until(lambda: not holding(amqp_url, needles), 30, "the broker to forget the customer")

    after = kept_messages(amqp_url)
    for queue in dead:
        [(headers, body)] = [(h, b) for h, b in after[queue] if json.loads(b)["id"] == poison["id"]]
        kept = json.loads(body)
        assert headers["x-tillkey-redacted"] == 1 and kept["data"]["customer"]["email"] is None, queue
        assert kept["data"]["lines"] == order["lines"] and kept["data"]["customer"]["country"] == "GB"
