"""What must not race: the last coupon redemption, checking one cart out twice, refunds beyond the total.

Run on both databases; PostgreSQL is where the row locks and the conditional update matter
(SQLite serialises writers at BEGIN IMMEDIATE anyway).
"""
import threading

import pytest

pytestmark = pytest.mark.integration


def run_together(app, requests):
    """Fire the requests at once from separate threads; their responses, in order."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def go(i, path, body, headers=None):
        client = app.test_client()
        barrier.wait()
        results[i] = client.post(path, json=body, headers=headers)

    threads = [threading.Thread(target=go, args=(i, *r)) for i, r in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_last_redemption_goes_to_one_checkout(app, client, db, merchant, make_product, checkout_body):
    pid = make_product()["product_id"]
    client.post("/v1/coupons", json={"code": "LAST", "percent_off": 10, "max_redemptions": 1}, headers=merchant[1])
    carts = [client.post("/v1/carts", json={"lines": [{"product_id": pid, "quantity": 1}], "coupon": "LAST"})
             .json["cart_id"] for _ in range(4)]
    results = run_together(app, [(f"/v1/carts/{cid}/checkout", checkout_body) for cid in carts])
    assert sorted(r.status_code for r in results) == [201, 422, 422, 422]
    assert db.snapshot()["orders"] == 1 and len(db.outbox("order.created")) == 1
    assert client.get("/v1/coupons", headers=merchant[1]).json["data"][0]["redemptions"] == 1


def test_one_cart_checks_out_once(app, client, db, make_product, checkout_body):
    pid = make_product()["product_id"]
    cid = client.post("/v1/carts", json={"lines": [{"product_id": pid, "quantity": 1}]}).json["cart_id"]
    results = run_together(app, [(f"/v1/carts/{cid}/checkout", checkout_body)] * 4)
    assert sorted(r.status_code for r in results) == [201, 409, 409, 409]
    assert db.snapshot()["orders"] == 1 and len(db.outbox("order.created")) == 1


def test_concurrent_refunds_never_exceed_the_total(app, client, db, admin, place_order, pay):
    order = place_order((2,))["order"]                  # 9800
    pay(order)
    url = f"/v1/orders/{order['order_id']}/refund"
    results = run_together(app, [(url, {"amount": 3000, "reason": f"r{i}"}, admin) for i in range(6)])
    assert sorted(r.status_code for r in results) == [202, 202, 202, 422, 422, 422]
    rest = run_together(app, [(url, {"reason": "the rest"}, admin) for _ in range(4)])
    assert sorted(r.status_code for r in rest) == [202, 409, 409, 409]
    granted = [r.json["amount"] for r in results + rest if r.status_code == 202]
    assert sorted(granted) == [800, 3000, 3000, 3000] and sum(granted) == order["total"]
    assert len(db.outbox("refund.requested")) == 4
