"""Use cases over the in-memory unit of work: support actions, consumed events, the scheduler."""

import pytest

from tillkey.messaging import PermanentError, RetryLater
from tillkey.orders.adapters.scheduler import LifecycleScheduler
from tillkey.orders.domain.errors import Conflict, Forbidden, Invalid, NotFound
from tillkey.orders.service_layer.access import Viewer
from tillkey.orders.service_layer.carts import CartLineInput, CreateCart
from tillkey.orders.service_layer.catalog import CreateCoupon, CreateProduct, RegisterMerchant
from tillkey.orders.service_layer.checkout import Checkout, CustomerInput, GetOrder
from tillkey.orders.service_layer.handlers import EVENT_HANDLERS
from tillkey.orders.service_layer.support import CancelOrder, RefundOrder, ResendLicenses
from tillkey.testing.messaging import sample_envelope

ADMIN = Viewer("admin")
CUSTOMER = CustomerInput("ada@example.com", "Ada", "Lovelace", "GB", company="Co", vat_id="GB1")


@pytest.fixture
def shop(svc):
    merchant = svc(RegisterMerchant("Acme", "billing@acme.example"))["merchant_id"]
    product = svc(CreateProduct(merchant, "Editor", {"EUR": 4900}, "EUR"))["product_id"]
    svc(CreateCoupon(merchant, "TEN", percent_off=10))
    return merchant, product


def place(svc, shop, coupon=None, quantity=1):
    cart = svc(CreateCart([CartLineInput(shop[1], quantity)], coupon=coupon, email="ada@example.com"))
    return svc(Checkout(cart["cart_id"], CUSTOMER, "card", True, True))["order"]


def consume(svc, type_, **data):
    env = sample_envelope(type_, new_id=True, **data)
    handler = EVENT_HANDLERS[type_][0].handle
    with svc.uow:
        handler(env, svc.uow, svc.deps)
        svc.uow.commit()


def paid(svc, shop, **kw):
    order = place(svc, shop, **kw)
    consume(svc, "payment.succeeded", order_id=order["order_id"], merchant_id=shop[0], amount=order["total"])
    return order


def emitted(svc, type_):
    return [e.data for e in svc.uow.events if e.type == type_]


# -- cancel ----------------------------------------------------------------------------------------
def test_support_cancels_an_unpaid_order_and_the_coupon_is_given_back(svc, shop):
    order = place(svc, shop, coupon="TEN")
    coupon = svc.uow.coupons.get(shop[0], "ten")
    assert coupon.redemptions == 1
    view = svc(CancelOrder(order["order_id"], ADMIN, "customer asked"))
    assert view["status"] == "canceled" and coupon.redemptions == 0
    assert emitted(svc, "order.canceled") == [{"order_id": order["order_id"], "merchant_id": shop[0],
                                               "reason": "customer asked"}]
    with pytest.raises(Conflict):
        svc(CancelOrder(order["order_id"], ADMIN, "again"))
    assert coupon.redemptions == 0 and len(emitted(svc, "order.canceled")) == 1


def test_only_support_cancels_and_only_unpaid_orders(svc, shop):
    order = place(svc, shop)
    oid = order["order_id"]
    with pytest.raises(Forbidden):
        svc(CancelOrder(oid, Viewer("merchant", shop[0]), "mine"))
    with pytest.raises(NotFound):
        svc(CancelOrder(oid, Viewer("merchant", "mer_other"), "theirs"))
    with pytest.raises(Forbidden):
        svc(CancelOrder(oid, Viewer("customer", order_id=oid), "me"))
    consume(svc, "payment.succeeded", order_id=oid, merchant_id=shop[0])
    with pytest.raises(Conflict):
        svc(CancelOrder(oid, ADMIN, "too late"))
    assert emitted(svc, "order.canceled") == []


# -- refunds ---------------------------------------------------------------------------------------
def test_refund_reserves_and_asks_payments(svc, shop):
    order = paid(svc, shop, quantity=2)                 # 9800
    merchant = Viewer("merchant", shop[0])
    first = svc(RefundOrder(order["order_id"], merchant, "one seat unused", 4900))
    assert (first["amount"], first["status"], first["refund_id"][:3]) == (4900, "pending", "re_")
    rest = svc(RefundOrder(order["order_id"], ADMIN, "the rest"))
    assert rest["amount"] == 4900
    with pytest.raises(Conflict):
        svc(RefundOrder(order["order_id"], ADMIN, "nothing left"))
    with pytest.raises(Invalid):
        svc(RefundOrder(order["order_id"], ADMIN, "too much", 1))
    with pytest.raises(Forbidden):
        svc(RefundOrder(order["order_id"], Viewer("customer", order_id=order["order_id"]), "me"))
    with pytest.raises(NotFound):
        svc(RefundOrder(order["order_id"], Viewer("merchant", "mer_other"), "theirs"))
    asked = emitted(svc, "refund.requested")
    assert [(r["refund_id"], r["amount"], r["currency"]) for r in asked] == [
        (first["refund_id"], 4900, "EUR"), (rest["refund_id"], 4900, "EUR")]


def test_refund_answers_settle_the_order(svc, shop):
    order = paid(svc, shop, quantity=2)
    oid, mid = order["order_id"], shop[0]
    a = svc(RefundOrder(oid, ADMIN, "part", 1000))
    b = svc(RefundOrder(oid, ADMIN, "rest"))
    consume(svc, "refund.failed", order_id=oid, merchant_id=mid, refund_id=b["refund_id"], amount=b["amount"])
    stored = svc.uow.orders.get(oid)
    assert (stored.refund_reserved, stored.refundable) == (1000, 8800)
    consume(svc, "payment.refunded", order_id=oid, merchant_id=mid, refund_id=a["refund_id"], amount=1000)
    consume(svc, "payment.refunded", order_id=oid, merchant_id=mid, refund_id=a["refund_id"], amount=1000)
    assert (stored.status, stored.refunded_amount, stored.refund_reserved) == ("paid", 1000, 0)
    last = svc(RefundOrder(oid, ADMIN, "all of it"))
    consume(svc, "payment.refunded", order_id=oid, merchant_id=mid, refund_id=last["refund_id"], amount=8800)
    assert (stored.status, stored.refunded_amount) == ("refunded", 9800)
    # A refund orders never asked for (payments refunding a refused charge) changes nothing.
    consume(svc, "payment.refunded", order_id=oid, merchant_id=mid, refund_id="re_notours", amount=5)
    assert stored.refunded_amount == 9800


# -- consumed events -------------------------------------------------------------------------------
def test_payment_for_an_unknown_order_waits_and_a_canceled_order_refuses_quietly(svc, shop):
    with pytest.raises(RetryLater):
        consume(svc, "payment.succeeded", order_id="ord_unknown")
    order = place(svc, shop)
    svc(CancelOrder(order["order_id"], ADMIN, "asked"))
    consume(svc, "payment.succeeded", order_id=order["order_id"], merchant_id=shop[0])
    assert svc.uow.orders.get(order["order_id"]).status == "canceled"
    assert emitted(svc, "order.paid") == []     # so fulfillment never delivers a canceled order


def test_the_payment_that_pays_the_order_is_announced_once_as_order_paid(svc, shop):
    order = place(svc, shop)
    consume(svc, "payment.succeeded", order_id=order["order_id"], merchant_id=shop[0], payment_id="pay_first")
    consume(svc, "payment.succeeded", order_id=order["order_id"], merchant_id=shop[0], payment_id="pay_extra")
    assert emitted(svc, "order.paid") == [{"order_id": order["order_id"], "merchant_id": shop[0],
                                           "payment_id": "pay_first", "method": "card"}]
    with pytest.raises(Conflict):
        svc(CancelOrder(order["order_id"], ADMIN, "too late"))


def test_failure_is_recorded_and_payment_marks_paid(svc, shop):
    order = place(svc, shop)
    consume(svc, "payment.failed", order_id=order["order_id"], merchant_id=shop[0])
    stored = svc.uow.orders.get(order["order_id"])
    assert stored.status == "not_paid" and stored.last_payment_failure["code"] == "card_declined"
    consume(svc, "payment.succeeded", order_id=order["order_id"], merchant_id=shop[0], method="bank_transfer")
    assert (stored.status, stored.payment_method, stored.paid_at.year) == ("paid", "bank_transfer", 2026)


def test_deliveries_complete_the_order_once(svc, shop):
    order = paid(svc, shop, quantity=2)
    oid, line = order["order_id"], order["lines"][0]["line_id"]
    consume(svc, "license.requested", order_id=oid, merchant_id=shop[0], line_id=line)
    assert svc.uow.orders.get(oid).lines[0].delivery_status == "awaiting_merchant"
    for _ in range(2):
        consume(svc, "product.delivered", order_id=oid, merchant_id=shop[0], line_id=line, licenses=["A", "B"])
    assert emitted(svc, "order.delivered") == [{"order_id": oid, "merchant_id": shop[0]}]
    assert svc(GetOrder(oid, ADMIN))["delivery_status"] == "delivered"
    with pytest.raises(PermanentError):
        consume(svc, "product.delivered", order_id=oid, merchant_id=shop[0], line_id="line_other")


def test_resend_emits_the_delivered_lines(svc, shop):
    order = paid(svc, shop)
    oid, line = order["order_id"], order["lines"][0]["line_id"]
    customer = Viewer("customer", order_id=oid)
    with pytest.raises(Conflict):
        svc(ResendLicenses(oid, customer))                   # nothing delivered yet
    consume(svc, "product.delivered", order_id=oid, merchant_id=shop[0], line_id=line, licenses=["K-1"])
    assert svc(ResendLicenses(oid, customer)) == {"order_id": oid, "status": "pending", "lines": 1}
    assert emitted(svc, "order.licenses_resend_requested")[0]["lines"] == [
        {"line_id": line, "product_id": shop[1], "name": "Editor", "licenses": ["K-1"], "text": None}]
    # The merchant resends its own order's licenses (no cooldown, like support); another's is not found.
    assert svc(ResendLicenses(oid, Viewer("merchant", shop[0])))["lines"] == 1
    assert len(emitted(svc, "order.licenses_resend_requested")) == 2
    with pytest.raises(NotFound):
        svc(ResendLicenses(oid, Viewer("merchant", "mer_other")))


# -- the scheduler, with a clock that moves ---------------------------------------------------------
class Handle:
    def __init__(self, svc):
        self.handle = svc


def test_scheduler_reminds_once_then_deletes_and_erases(svc, shop):
    order = place(svc, shop, coupon="TEN")
    oid = order["order_id"]
    scheduler = LifecycleScheduler(Handle(svc), interval=30, reminder_after=86400, ttl=90 * 86400, batch=2)
    assert scheduler.tick() == {"deleted": 0, "reminded": 0}
    svc.clock.advance(hours=24)
    assert scheduler.tick() == {"deleted": 0, "reminded": 1}
    svc.clock.advance(days=30)
    assert scheduler.tick() == {"deleted": 0, "reminded": 0}
    assert emitted(svc, "order.payment_reminder_due") == [{"order_id": oid, "merchant_id": shop[0],
                                                          "total": order["total"], "currency": "EUR"}]
    svc.clock.advance(days=89)
    assert scheduler.tick() == {"deleted": 1, "reminded": 0}
    stored = svc.uow.orders.get(oid)
    assert stored.status == "deleted" and stored.customer.email is None and stored.customer.company is None
    assert svc.uow.carts.get(stored.cart_id).email is None
    assert svc.uow.coupons.get(shop[0], "ten").redemptions == 0
    assert emitted(svc, "order.deleted") == [{"order_id": oid, "merchant_id": shop[0]}]
    assert scheduler.tick() == {"deleted": 0, "reminded": 0}


def test_scheduler_works_through_batches_and_skips_paid_orders(svc, shop):
    orders = [place(svc, shop) for _ in range(5)]
    consume(svc, "payment.succeeded", order_id=orders[0]["order_id"], merchant_id=shop[0])
    scheduler = LifecycleScheduler(Handle(svc), interval=30, reminder_after=3600, ttl=7200, batch=2)
    svc.clock.advance(seconds=3600)
    assert scheduler.tick()["reminded"] == 4
    svc.clock.advance(seconds=3600)
    assert scheduler.tick()["deleted"] == 4
    assert svc.uow.orders.get(orders[0]["order_id"]).status == "paid"
    assert len(emitted(svc, "order.deleted")) == 4


def test_an_order_past_its_ttl_is_deleted_without_a_reminder(svc, shop):
    place(svc, shop)
    svc.clock.advance(days=100)
    scheduler = LifecycleScheduler(Handle(svc), interval=30, reminder_after=86400, ttl=90 * 86400)
    assert scheduler.tick() == {"deleted": 1, "reminded": 0}
    assert emitted(svc, "order.payment_reminder_due") == []


def test_scheduler_survives_a_failing_tick(svc):
    calls = []

    class Broken:
        def handle(self, command):
            calls.append(command)
            scheduler.stop()
            raise RuntimeError("database down")

    scheduler = LifecycleScheduler(Broken(), interval=0.01, reminder_after=1, ttl=2)
    scheduler.run()                                     # returns once stopped, having logged the failure
    assert len(calls) == 1 and scheduler.ticks == 0
