"""GET /v1/messages: the message log and who may read which part of it (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest

from tillkey.contracts import load_sample
from tillkey.platform.credentials import make_api_key, make_order_token

from .conftest import ADMIN, SECRET
from .helpers import MERCHANT, ORDER, ORDER_ID, drain_sender, feed, known_customer

pytestmark = pytest.mark.integration
OTHER_MERCHANT, OTHER_ORDER = "mer_Other1", "ord_Other1"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


ADMIN_H = bearer(ADMIN)


@pytest.fixture
def log(service, smtp_sink):
    """Merchant A: three customer emails and one of its own; merchant B: one customer email."""
    known_customer(service)
    feed(service, "payment.pending")
    feed(service, "payment.succeeded")
    feed(service, "product.delivered")
    feed(service, "license_pool.low")
    feed(service, "merchant.registered", new_id=True, merchant_id=OTHER_MERCHANT, email="shop@other.example")
    feed(service, "order.created", new_id=True, order_id=OTHER_ORDER, merchant_id=OTHER_MERCHANT,
         customer={**ORDER["customer"], "email": "Bob@Example.com", "first_name": "Bob"},
         lines=[{**ORDER["lines"][0], "line_id": "line_Other1", "product_id": "prod_Other1"}])
    feed(service, "payment.succeeded", new_id=True, order_id=OTHER_ORDER, merchant_id=OTHER_MERCHANT,
         payment_id="pay_Other1")
    drain_sender(service)
    smtp_sink.wait_for(5)


def test_admin_sees_every_message_newest_first_with_its_fields(client, log):
    resp = client.get("/v1/messages", headers=ADMIN_H)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["next_cursor"] is None and len(body["data"]) == 5
    first = body["data"][0]
    assert first["template"] == "payment_confirmation" and first["order_id"] == OTHER_ORDER
    assert set(first) >= {"message_id", "to", "template", "subject", "order_id", "status", "sent_at"}
    assert first["message_id"].startswith("msg_") and first["status"] == "sent"
    assert first["sent_at"].endswith("Z") and first["to"] == "Bob@Example.com"
    created = [m["created_at"] for m in body["data"]]
    assert created == sorted(created, reverse=True)


def test_filters_by_order_and_by_address_case_insensitively(client, log):
    by_order = client.get(f"/v1/messages?order_id={ORDER_ID}", headers=ADMIN_H).get_json()["data"]
    assert sorted(m["template"] for m in by_order) == ["license_delivery", "payment_confirmation",
                                                       "payment_instructions"]
    by_to = client.get("/v1/messages?to=bob@EXAMPLE.com", headers=ADMIN_H).get_json()["data"]
    assert [m["order_id"] for m in by_to] == [OTHER_ORDER]
    merchant_mail = client.get("/v1/messages?to=billing@acme.example", headers=ADMIN_H).get_json()["data"]
    assert [(m["template"], m["order_id"]) for m in merchant_mail] == [("license_pool_low", None)]


def test_pages_follow_the_cursor_without_gaps_or_repeats(client, log):
    seen, cursor = [], None
    while True:
        url = "/v1/messages?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=ADMIN_H).get_json()
        seen += [m["message_id"] for m in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and len(set(seen)) == 5


def test_a_merchant_sees_its_own_orders_and_its_own_emails_only(client, log):
    key = make_api_key(SECRET, MERCHANT)
    data = client.get("/v1/messages", headers=bearer(key)).get_json()["data"]
    assert len(data) == 4 and {m["order_id"] for m in data} == {ORDER_ID, None}
    assert client.get("/v1/messages?to=bob@example.com", headers=bearer(key)).get_json()["data"] == []
    other = make_api_key(SECRET, OTHER_MERCHANT)
    assert [m["order_id"] for m in client.get("/v1/messages", headers=bearer(other)).get_json()["data"]] == [
        OTHER_ORDER]


def test_another_merchants_order_and_an_unknown_order_are_404(client, log):
    key = make_api_key(SECRET, MERCHANT)
    for order_id in (OTHER_ORDER, "ord_Nowhere"):
        resp = client.get(f"/v1/messages?order_id={order_id}", headers=bearer(key))
        assert resp.status_code == 404 and resp.mimetype == "application/problem+json"
        assert resp.get_json()["code"] == "not_found"
    assert client.get("/v1/messages?order_id=ord_Nowhere", headers=ADMIN_H).status_code == 404


def test_credentials(client, log):
    assert client.get("/v1/messages").status_code == 401
    assert client.get("/v1/messages", headers=bearer("wrong")).status_code == 401
    forged = "tk_mer_7Yb2kQ9xTz.aaaaaaaaaaaaaaaa." + "a" * 43
    assert client.get("/v1/messages", headers=bearer(forged)).status_code == 401
    # The customer's order token opens that order, but the log is not for customers: 403.
    token = make_order_token(SECRET, ORDER_ID)
    resp = client.get(f"/v1/messages?order_id={ORDER_ID}&token={token}")
    assert resp.status_code == 403 and resp.get_json()["code"] == "forbidden"
    # A token for another order looks like a missing order.
    assert client.get(f"/v1/messages?order_id={ORDER_ID}&token={make_order_token(SECRET, OTHER_ORDER)}"
                      ).status_code == 404
    assert client.get("/v1/messages?token=" + token).status_code == 401


def test_filters_by_status_across_merchants_and_within_one(client, service, log):
    """The support console's failed emails: status=failed, every merchant's for the admin."""
    from sqlalchemy import update

    from tillkey.notifications.adapters import tables
    m = tables.messages.c
    with service.engine.begin() as conn:
        conn.execute(update(tables.messages).where(m.template.in_(["payment_confirmation", "license_pool_low"]))
                     .values(status="failed", last_error="550 mailbox unavailable"))
    failed = client.get("/v1/messages?status=failed", headers=ADMIN_H).get_json()["data"]
    assert sorted((x["order_id"] or "", x["template"]) for x in failed) == sorted(
        [(ORDER_ID, "payment_confirmation"), (OTHER_ORDER, "payment_confirmation"), ("", "license_pool_low")])
    assert all(x["status"] == "failed" and x["last_error"] == "550 mailbox unavailable" for x in failed)
    sent = client.get(f"/v1/messages?status=sent&order_id={ORDER_ID}", headers=ADMIN_H).get_json()["data"]
    assert sorted(x["template"] for x in sent) == ["license_delivery", "payment_instructions"]
    mine = client.get("/v1/messages?status=failed", headers=bearer(make_api_key(SECRET, OTHER_MERCHANT)))
    assert [x["order_id"] for x in mine.get_json()["data"]] == [OTHER_ORDER]
    assert client.get("/v1/messages?status=queued", headers=ADMIN_H).get_json()["data"] == []


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=x", "cursor=%%%", "order_id=123",
                                   "to=" + "a" * 321, "unknown=1", "status=gone", "status="])
def test_bad_queries_are_422_problems(client, log, query):
    resp = client.get(f"/v1/messages?{query}", headers=ADMIN_H)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["code"] == "validation_error" and resp.get_json()["errors"]


def test_a_deleted_order_keeps_its_log_without_address_or_bodies(client, service, log):
    feed(service, "order.deleted")
    data = client.get(f"/v1/messages?order_id={ORDER_ID}", headers=ADMIN_H).get_json()["data"]
    assert len(data) == 3 and {m["to"] for m in data} == {None} and {m["status"] for m in data} == {"sent"}
    assert client.get("/v1/messages?to=ada@example.com", headers=ADMIN_H).get_json()["data"] == []


def test_the_log_is_in_the_openapi_document(client):
    doc = client.get("/openapi.json").get_json()
    assert "get" in doc["paths"]["/v1/messages"]
    assert load_sample("order.created")  # golden samples feed every test above
