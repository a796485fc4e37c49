"""The support console's dead letters (on the real RabbitMQ, in queues of this test's own) and failed
emails (through the fake notifications API): listed, shown, replayed after a form with a reason and
recorded with who and why; a form without its CSRF token, a merchant's sign-in and an unreachable
broker change nothing."""
from __future__ import annotations

import json
import re
from uuid import uuid4

import pika
import pytest
from sqlalchemy import create_engine, select

from tillkey.dashboard.adapters import tables
from tillkey.dashboard.adapters.dead_letters import SERVICES, BrokerDeadLetters
from tillkey.dashboard.entrypoints.app import create_app
from tillkey.dashboard.service_layer.errors import Rejected, Unavailable
from tillkey.messaging.consumer import ATTEMPT_HEADER, REASON_HEADER
from tillkey.testing.broker import Broker

from .conftest import ByParams, create_user, csrf_token, sign_in
from .test_support_pages import support_sign_in

pytestmark = pytest.mark.integration
EVENT_ID = "evt_DeadOne1"


class Queues(Broker):
    """`<prefix>orders.events` and its dead queue, declared here and deleted afterwards, so the
    machine's real services' queues are never touched; the other four services have no queue."""

    def __init__(self, amqp_url: str):
        super().__init__(amqp_url)
        self.prefix = f"t{uuid4().hex[:8]}"
        self.names = {s: f"{self.prefix}{s}" for s in SERVICES}
        self.queue, self.dead = f"{self.names['orders']}.events", f"{self.names['orders']}.events.dead"

    def dead_letter(self, message_id: str, order_id: str | None = "ord_1") -> None:
        envelope = {"id": message_id, "type": "order.created", "version": 1, "occurred_at": "2026-01-02T10:00:00Z",
                    "producer": "orders", "correlation_id": "cor_1", "causation_id": None,
                    "data": {"order_id": order_id} if order_id else {}}
        self.put(self.dead, json.dumps(envelope).encode(), pika.BasicProperties(
            content_type="application/json", delivery_mode=2, message_id=message_id, type="order.created",
            headers={ATTEMPT_HEADER: 3, REASON_HEADER: "permanent: product prod_x is unknown here"}))


@pytest.fixture
def queues(amqp_url):
    q = Queues(amqp_url)
    q.declare_queues(q.queue, q.dead)
    yield q
    q.delete_owned()


@pytest.fixture
def console(settings, api, queues):
    app = create_app(settings, api=api, dead_letters=BrokerDeadLetters(queues.url, queues.names))
    client = app.test_client()
    assert support_sign_in(client).status_code == 303
    return client


def form_token(client, path) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def support_log(database_url) -> list[dict]:
    with create_engine(database_url).connect() as conn:
        return [dict(r) for r in conn.execute(select(tables.support_actions)).mappings()]


def test_a_dead_letter_is_listed_shown_and_replayed_to_its_service_queue(console, queues, database_url):
    queues.dead_letter(EVENT_ID)
    overview = console.get("/support/dead-letters").get_data(as_text=True)
    assert re.search(r'data-service="orders">.*?class="num count">1<', overview, re.S)
    assert re.search(r'data-service="payments">.*?no queue yet', overview, re.S)
    listing = console.get("/support/dead-letters/orders").get_data(as_text=True)
    assert EVENT_ID in listing and "order.created" in listing and "permanent: product prod_x is unknown here" in listing
    assert 'href="/support/orders/ord_1"' in listing
    shown = console.get(f"/support/dead-letters/orders/messages/{EVENT_ID}")
    assert shown.status_code == 200 and '&#34;correlation_id&#34;: &#34;cor_1&#34;' in shown.get_data(as_text=True)
    assert queues.depth(queues.dead) == 1, "looking must not take a dead letter away"

    token = form_token(console, f"/support/dead-letters/orders/messages/{EVENT_ID}")
    refused = console.post("/support/dead-letters/orders/replay", data={"csrf_token": token, "message_id": EVENT_ID,
                                                                        "reason": " "})
    assert refused.status_code == 422 and queues.depth(queues.dead) == 1 and support_log(database_url) == []
    done = console.post("/support/dead-letters/orders/replay", data={"csrf_token": token, "message_id": EVENT_ID,
                                                                     "reason": "product prod_x created"})
    assert done.status_code == 303
    assert queues.depth(queues.dead) == 0
    [(props, body)] = queues.drain(queues.queue)
    assert props.message_id == EVENT_ID and json.loads(body)["id"] == EVENT_ID
    [entry] = support_log(database_url)
    assert (entry["order_id"], entry["action"], entry["reason"], entry["who"], entry["subject"]) == (
        "ord_1", "replay dead letter", "product prod_x created", "Sam Support", f"orders: {EVENT_ID}")
    assert "product prod_x created" in console.get("/support/dead-letters").get_data(as_text=True)
    # The order's support page shows it too; it is gone from the dead letters, so replaying again is 404.
    again = console.post("/support/dead-letters/orders/replay", data={"csrf_token": token, "message_id": EVENT_ID,
                                                                      "reason": "again"})
    assert again.status_code == 404 and len(support_log(database_url)) == 1


def test_all_of_a_service_are_replayed_and_recorded_once(console, queues, database_url):
    queues.dead_letter("evt_DeadA1")
    queues.dead_letter("evt_DeadB1", order_id=None)
    token = form_token(console, "/support/dead-letters/orders")
    assert console.post("/support/dead-letters/orders/replay", data={"csrf_token": token, "all": "1",
                                                                     "reason": "bug fixed"}).status_code == 303
    assert queues.depth(queues.dead) == 0
    assert sorted(p.message_id for p, _ in queues.drain(queues.queue)) == ["evt_DeadA1", "evt_DeadB1"]
    [entry] = support_log(database_url)
    assert (entry["order_id"], entry["action"], entry["subject"]) == (None, "replay dead letters", "orders: all (2)")


def test_without_csrf_or_as_a_merchant_or_for_another_service_nothing_is_replayed(console, queues, settings, api,
                                                                                   database_url):
    queues.dead_letter(EVENT_ID)
    no_token = console.post("/support/dead-letters/orders/replay", data={"message_id": EVENT_ID, "reason": "x"})
    assert no_token.status_code == 400
    token = form_token(console, "/support/dead-letters/orders")
    assert console.post("/support/dead-letters/billing/replay", data={"csrf_token": token, "all": "1",
                                                                      "reason": "x"}).status_code == 404
    assert console.get("/support/dead-letters/orders/messages/evt_Unknown1").status_code == 404
    assert console.get("/support/dead-letters/orders/messages/no%20such").status_code == 404
    merchant = create_app(settings, api=api, dead_letters=BrokerDeadLetters(queues.url, queues.names)).test_client()
    create_user(merchant)
    assert sign_in(merchant).status_code == 303
    for path in ("/support/dead-letters", "/support/dead-letters/orders", "/support/failed-emails"):
        assert merchant.get(path).status_code == 302, path
    merchant_token = csrf_token(merchant, "/")
    assert merchant.post("/support/dead-letters/orders/replay", data={"csrf_token": merchant_token, "all": "1",
                                                                      "reason": "x"}).status_code == 302
    assert queues.depth(queues.dead) == 1 and support_log(database_url) == []


def test_an_unreachable_broker_is_a_503_page_and_the_rest_works(settings, api):
    app = create_app(settings, api=api, dead_letters=BrokerDeadLetters("amqp://guest:guest@127.0.0.1:1/%2F"))
    client = app.test_client()
    assert support_sign_in(client).status_code == 303
    for path in ("/support/dead-letters", "/support/dead-letters/orders"):
        resp = client.get(path)
        assert resp.status_code == 503 and "broker" in resp.get_data(as_text=True), path
    assert client.get("/support").status_code == 200


FAILED = [{"message_id": "msg_F2", "to": "ada@example.com", "template": "license_delivery", "subject": "Your keys",
           "order_id": "ord_1", "status": "failed", "attempts": 5, "last_error": "550 mailbox unavailable",
           "created_at": "2026-01-03T10:00:00Z", "sent_at": None},
          {"message_id": "msg_F1", "to": "billing@shop.example", "template": "license_pool_low", "subject": "Low",
           "order_id": None, "status": "failed", "attempts": 5, "last_error": "timed out",
           "created_at": "2026-01-02T10:00:00Z", "sent_at": None}]


def test_failed_emails_of_every_merchant_newest_first_with_the_admin_credential(console, api):
    api.answers[("notifications", "GET", "/v1/messages")] = ByParams(
        lambda p: {"data": FAILED if not p.get("cursor") else [], "next_cursor": "c1" if not p.get("cursor") else None})
    html = console.get("/support/failed-emails").get_data(as_text=True)
    [call] = [c for c in api.calls if c[0] == "notifications"]
    assert call[3] == "test-admin-token" and call[4]["status"] == "failed"
    assert html.index("msg_F2") < html.index("msg_F1")
    assert 'href="/support/orders/ord_1"' in html and "550 mailbox unavailable" in html and "license pool low" in html
    assert "tillkey-admin emails requeue" in html and 'href="/support/failed-emails?cursor=c1"' in html
    assert "No email has failed" in console.get("/support/failed-emails?cursor=c1").get_data(as_text=True)


def test_failed_emails_say_when_notifications_does_not_answer_or_refuses_the_page(console, api):
    def down(_params):
        raise Unavailable("notifications")

    def refused(_params):
        raise Rejected("Invalid cursor.", {"cursor": ["Not a cursor."]})

    api.answers[("notifications", "GET", "/v1/messages")] = ByParams(down)
    resp = console.get("/support/failed-emails")
    assert resp.status_code == 503 and "notifications" in resp.get_data(as_text=True)
    api.answers[("notifications", "GET", "/v1/messages")] = ByParams(refused)
    assert console.get("/support/failed-emails?cursor=bad").status_code == 422
    assert console.get("/support/failed-emails?cursor=" + "x" * 501).status_code == 422


def test_the_merchants_order_page_shows_what_support_did_to_it_read_only(console, api, settings, queues):
    from .test_support_pages import ORDER
    api.answers[("orders", "GET", "/v1/orders/ord_1")] = ORDER
    api.answers[("orders", "POST", "/v1/orders/ord_1/cancel")] = lambda body: {**ORDER, "status": "canceled"}
    html = console.get("/support/orders/ord_1").get_data(as_text=True)
    form = {n: re.search(rf'name="{n}" value="([^"]+)"', html).group(1) for n in ("csrf_token", "form_key")}
    assert console.post("/support/orders/ord_1/cancel", data={**form, "reason": "customer asked by phone"}
                        ).status_code == 303
    merchant = create_app(settings, api=api, dead_letters=BrokerDeadLetters(queues.url, queues.names)).test_client()
    create_user(merchant)
    assert sign_in(merchant).status_code == 303
    page = merchant.get("/orders/ord_1").get_data(as_text=True)
    log = page[page.index('id="support-log"'):]
    assert re.search(r"cancel by <strong>Sam Support</strong>: customer asked by phone</span>"
                     r'<span class="line-meta">\d{4}-\d\d-\d\d \d\d:\d\d UTC', log)
    assert "<form" not in log[:log.index("</section>")], "read-only: no action on the log"
    # An order the merchant cannot see (the orders API's 404) shows no log.
    assert merchant.get("/orders/ord_2").status_code == 404
