"""The lifecycle scheduler on SQLite and PostgreSQL: remind once, then delete and erase; two replicas."""
import json
import threading

import pytest
from sqlalchemy import select

from tillkey.orders.adapters import tables
from tillkey.orders.adapters.scheduler import LifecycleScheduler
from tillkey.orders.bootstrap import bootstrap
from tillkey.testing.messaging import running, wait_until

pytestmark = pytest.mark.integration
HOUR, DAY = 3600, 86400


def scheduler_for(settings, clock, **kw):
    service = bootstrap(settings, clock=clock)
    return service, LifecycleScheduler(service, interval=kw.pop("interval", 0.05), reminder_after=HOUR,
                                       ttl=DAY, **kw)


def test_reminds_once_then_deletes_and_erases(settings, clock, client, db, admin, merchant, place_order):
    client.post("/v1/coupons", json={"code": "ONCE", "percent_off": 10, "max_redemptions": 1}, headers=merchant[1])
    order = place_order(coupon="once")["order"]
    oid = order["order_id"]
    service, scheduler = scheduler_for(settings, clock)
    with running(scheduler=scheduler):
        ticks = scheduler.ticks
        wait_until(lambda: scheduler.ticks > ticks + 1, what="idle ticks")
        assert db.outbox("order.payment_reminder_due") == []
        clock.advance(seconds=HOUR)
        wait_until(lambda: db.outbox("order.payment_reminder_due"), what="the reminder")
        ticks = scheduler.ticks
        wait_until(lambda: scheduler.ticks > ticks + 2, what="more ticks")
        assert len(db.outbox("order.payment_reminder_due")) == 1          # once
        clock.advance(seconds=DAY - HOUR)
        wait_until(lambda: db.outbox("order.deleted"), what="the deletion")
    reminder = json.loads(db.outbox("order.payment_reminder_due")[0])["data"]
    assert reminder == {"order_id": oid, "merchant_id": order["merchant_id"], "total": order["total"],
                        "currency": "EUR"}
    seen = client.get(f"/v1/orders/{oid}", headers=admin).json
    assert seen["status"] == "deleted" and seen["total"] == order["total"] and len(seen["lines"]) == 1
    assert seen["customer"] == {"email": None, "first_name": None, "last_name": None, "country": "GB",
                                "company": None, "vat_id": None, "locale": "en"}
    assert client.get(f"/v1/orders/{oid}?token={_token(client, oid)}").status_code == 404
    with service.engine.connect() as conn:
        assert conn.execute(select(tables.carts.c.email).where(tables.carts.c.order_id == oid)).scalar_one() is None
    # The redemption came back: the coupon can be used again.
    assert client.get("/v1/coupons", headers=merchant[1]).json["data"][0]["redemptions"] == 0
    assert len(db.outbox("order.deleted")) == 1
    service.engine.dispose()


def _token(client, order_id):
    from tillkey.platform.credentials import make_order_token
    return make_order_token(client.application.extensions["tillkey.orders"].settings.platform_secret, order_id)


def test_paid_and_canceled_orders_are_left_alone(settings, clock, client, db, admin, place_order, pay):
    paid, canceled = place_order()["order"], place_order()["order"]
    pay(paid)
    client.post(f"/v1/orders/{canceled['order_id']}/cancel", json={"reason": "r"}, headers=admin)
    service, scheduler = scheduler_for(settings, clock)
    clock.advance(seconds=2 * DAY)
    assert scheduler.tick() == {"deleted": 0, "reminded": 0}
    assert client.get(f"/v1/orders/{paid['order_id']}", headers=admin).json["customer"]["email"]
    service.engine.dispose()


def test_two_schedulers_never_double_send_or_double_delete(settings, clock, client, db, place_order):
    orders = [place_order()["order"]["order_id"] for _ in range(30)]
    pairs = [scheduler_for(settings, clock, batch=4) for _ in range(2)]

    def both_tick():
        barrier = threading.Barrier(2)
        results = []

        def go(scheduler):
            barrier.wait()
            results.append(scheduler.tick())

        threads = [threading.Thread(target=go, args=(s,)) for _, s in pairs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        return results

    clock.advance(seconds=HOUR)
    reminded = both_tick()
    clock.advance(seconds=DAY)
    deleted = both_tick()
    reminders = [json.loads(b)["data"]["order_id"] for b in db.outbox("order.payment_reminder_due")]
    deletions = [json.loads(b)["data"]["order_id"] for b in db.outbox("order.deleted")]
    assert sorted(reminders) == sorted(orders) and sorted(deletions) == sorted(orders)
    # Each order was claimed by exactly one of them (a row the other held was skipped, not redone).
    assert sum(r["reminded"] for r in reminded) == 30 and sum(r["deleted"] for r in deleted) == 30
    for service, _ in pairs:
        service.engine.dispose()
