"""Support actions over HTTP on SQLite and PostgreSQL: cancel, refund, resend (docs/architecture.md §2.5–2.7)."""
import json

import pytest

pytestmark = pytest.mark.integration


def customer(checkout):
    return {"Authorization": f"Bearer {checkout['order_token']}"}


# -- cancel ------------------------------------------------------------------------------------------
def test_support_cancels_an_unpaid_order(client, db, admin, merchant, place_order):
    client.post("/v1/coupons", json={"code": "SPRING", "percent_off": 10}, headers=merchant[1])
    order = place_order(coupon="spring")["order"]
    resp = client.post(f"/v1/orders/{order['order_id']}/cancel", json={"reason": "customer asked"}, headers=admin)
    assert resp.status_code == 200 and resp.json["status"] == "canceled"
    assert client.get("/v1/coupons", headers=merchant[1]).json["data"][0]["redemptions"] == 0
    assert [json.loads(b)["data"] for b in db.outbox("order.canceled")] == [
        {"order_id": order["order_id"], "merchant_id": order["merchant_id"], "reason": "customer asked"}]
    again = client.post(f"/v1/orders/{order['order_id']}/cancel", json={"reason": "twice"}, headers=admin)
    assert again.status_code == 409 and again.json["code"] == "order_status"
    assert len(db.outbox("order.canceled")) == 1


def test_who_may_cancel(client, db, admin, merchant, other_merchant, place_order, pay):
    checkout = place_order()
    oid = checkout["order_id"]
    url, body = f"/v1/orders/{oid}/cancel", {"reason": "r"}
    assert client.post(url, json=body, headers=merchant[1]).status_code == 403
    assert client.post(url, json=body, headers=other_merchant[1]).status_code == 404
    assert client.post(url, json=body, headers=customer(checkout)).status_code == 403
    assert client.post(url, json=body).status_code == 401
    assert client.post("/v1/orders/ord_nope/cancel", json=body, headers=admin).status_code == 404
    bad = client.post(url, json={"reason": " "}, headers=admin)
    assert bad.status_code == 422 and "reason" in bad.json["errors"]
    assert client.get(f"/v1/orders/{oid}", headers=admin).json["status"] == "not_paid"
    pay(checkout["order"])
    assert client.post(url, json=body, headers=admin).status_code == 409
    assert db.outbox("order.canceled") == []


# -- refunds -------------------------------------------------------------------------------------------
def test_full_refund_by_default(client, db, admin, place_order, pay):
    order = place_order((2,))["order"]                      # 9800 EUR
    pay(order)
    resp = client.post(f"/v1/orders/{order['order_id']}/refund", json={"reason": "not needed"}, headers=admin)
    assert resp.status_code == 202, resp.json
    assert (resp.json["amount"], resp.json["status"], resp.json["refund_id"][:3]) == (9800, "pending", "re_")
    requested = json.loads(db.outbox("refund.requested")[0])["data"]
    assert requested == {"order_id": order["order_id"], "merchant_id": order["merchant_id"],
                         "refund_id": resp.json["refund_id"], "amount": 9800, "currency": "EUR",
                         "reason": "not needed"}
    nothing = client.post(f"/v1/orders/{order['order_id']}/refund", json={"reason": "again"}, headers=admin)
    assert nothing.status_code == 409 and nothing.json["code"] == "nothing_to_refund"


def test_partial_refunds_by_the_merchant_and_the_limits(client, db, admin, merchant, other_merchant,
                                                        place_order, pay, deliver):
    checkout = place_order((2,))
    order, url = checkout["order"], f"/v1/orders/{checkout['order_id']}/refund"
    assert client.post(url, json={"reason": "early"}, headers=admin).status_code == 409      # not paid yet
    pay(order)
    part = client.post(url, json={"amount": 4900, "reason": "one seat"}, headers=merchant[1])
    assert part.status_code == 202 and part.json["amount"] == 4900
    over = client.post(url, json={"amount": 4901, "reason": "too much"}, headers=admin)
    assert over.status_code == 422 and over.json["code"] == "refund_exceeds_remaining"
    assert "amount" in over.json["errors"]
    assert client.post(url, json={"reason": "r"}, headers=other_merchant[1]).status_code == 404
    assert client.post(url, json={"reason": "r"}, headers=customer(checkout)).status_code == 403
    for bad in ({"amount": 0, "reason": "r"}, {"amount": "10", "reason": "r"}, {"amount": 10}, {"reason": "r", "x": 1}):
        assert client.post(url, json=bad, headers=admin).status_code == 422, bad
    assert len(db.outbox("refund.requested")) == 1
    # Payments answers: the refund succeeded, the order stays paid with a refunded amount.
    deliver("payment.refunded", order_id=order["order_id"], merchant_id=order["merchant_id"],
            refund_id=part.json["refund_id"], amount=4900)
    seen = client.get(f"/v1/orders/{order['order_id']}", headers=admin).json
    assert (seen["status"], seen["refunded_amount"]) == ("paid", 4900)
    rest = client.post(url, json={"reason": "the rest"}, headers=admin)
    assert rest.json["amount"] == 4900
    deliver("refund.failed", order_id=order["order_id"], merchant_id=order["merchant_id"],
            refund_id=rest.json["refund_id"], amount=4900)
    retry = client.post(url, json={"reason": "the rest, again"}, headers=admin)
    assert retry.status_code == 202 and retry.json["amount"] == 4900         # the failed one was released
    deliver("payment.refunded", order_id=order["order_id"], merchant_id=order["merchant_id"],
            refund_id=retry.json["refund_id"], amount=4900)
    seen = client.get(f"/v1/orders/{order['order_id']}", headers=admin).json
    assert (seen["status"], seen["refunded_amount"]) == ("refunded", 9800)
    assert client.post(url, json={"reason": "more"}, headers=admin).status_code == 409


def test_refund_honours_the_idempotency_key(client, db, admin, place_order, pay):
    order = place_order((2,))["order"]
    pay(order)
    url, headers = f"/v1/orders/{order['order_id']}/refund", {**admin, "Idempotency-Key": "refund-1"}
    first = client.post(url, json={"amount": 1000, "reason": "r"}, headers=headers)
    second = client.post(url, json={"amount": 1000, "reason": "r"}, headers=headers)
    assert first.status_code == second.status_code == 202 and first.json == second.json
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert client.post(url, json={"amount": 2000, "reason": "r"}, headers=headers).status_code == 422
    assert len(db.outbox("refund.requested")) == 1


# -- resend ----------------------------------------------------------------------------------------------
def test_resend_licenses(client, db, admin, merchant, other_merchant, place_order, pay, deliver):
    checkout = place_order((1, 2))
    order, url = checkout["order"], f"/v1/orders/{checkout['order_id']}/resend-licenses"
    assert client.post(url, headers=admin).status_code == 409                    # unpaid
    pay(order)
    first, second = order["lines"]
    deliver("product.delivered", order_id=order["order_id"], merchant_id=order["merchant_id"],
            line_id=second["line_id"], product_id=second["product_id"], quantity=2, licenses=["K-1", "K-2"])
    resp = client.post(url, headers=customer(checkout))
    assert resp.status_code == 202 and resp.json == {"order_id": order["order_id"], "status": "pending", "lines": 1}
    assert client.post(url, headers=admin).status_code == 202                    # support has no cooldown
    too_soon = client.post(url, headers=customer(checkout))
    assert too_soon.status_code == 429 and int(too_soon.headers["Retry-After"]) > 0
    assert client.post(url, headers=other_merchant[1]).status_code == 404        # another merchant's order
    assert client.post(url, headers=merchant[1]).status_code == 202              # its own: no cooldown either
    events = [json.loads(b)["data"] for b in db.outbox("order.licenses_resend_requested")]
    assert len(events) == 3 and events[0]["lines"] == [
        {"line_id": second["line_id"], "product_id": second["product_id"], "name": second["name"],
         "licenses": ["K-1", "K-2"], "text": None}]
