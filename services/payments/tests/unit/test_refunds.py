"""Refunds orders asks for: the order aggregate's rules (pure) and the refund.requested handler
over a fake unit of work, with the events it answers validated against their contracts."""
from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from tillkey.messaging import RetryLater
from tillkey.payments.domain.errors import Conflict
from tillkey.payments.domain.model import Order, Payment
from tillkey.payments.domain.refunds import NoPaymentToRefund
from tillkey.payments.service_layer.submission import announce_refund
from tillkey.testing.messaging import sample_envelope

from .conftest import FakePaymentsUow, handle
from .test_handlers import ORDER_ID

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def paid_order(method="card", amount=8820) -> tuple[Order, Payment]:
    o = Order("ord_1", "mer_1", "EUR", amount, "not_paid", method, T0)
    card = method == "card"
    p = Payment("pay_1", o.order_id, method, "pending" if card else "awaiting_funds", amount, "EUR", T0, T0,
                gateway="sandbox" if card else None, gateway_token="tok_1" if card else None)
    o.start_payment(p, T0)
    if card:
        assert o.accept_charge(p, "ch_1", "re_x", T0).accepted
    else:
        o.confirm_offline(p, T0)
    return o, p


# -- the aggregate -----------------------------------------------------------------------------------

def test_a_card_refund_is_pending_on_the_charge_until_the_gateway_answers():
    o, p = paid_order()
    r = o.request_refund("re_1", 8820, "EUR", "asked", T0)
    assert (r.status, r.payment_id, r.charge_id, r.gateway, r.automatic) == ("pending", "pay_1", "ch_1", "sandbox",
                                                                              False)
    assert r.awaits_submission and p.status == "succeeded" and o.status == "paid"
    assert o.settle_refund(r, True, T0)
    assert (p.status, o.status, o.refunded_amount, o.fully_refunded) == ("refunded", "refunded", 8820, True)


def test_a_partial_refund_then_the_rest():
    o, p = paid_order()
    first = o.request_refund("re_1", 3000, "EUR", "one seat", T0)
    o.settle_refund(first, True, T0)
    assert (p.status, o.status, o.refunded_amount) == ("partially_refunded", "paid", 3000)
    rest = o.request_refund("re_2", 5820, "EUR", "the rest", T0)
    assert rest.status == "pending"
    o.settle_refund(rest, True, T0)
    assert (p.status, o.status, o.refunded_amount) == ("refunded", "refunded", 8820)


def test_pending_refunds_hold_their_amount_and_failed_ones_release_it():
    o, _ = paid_order()
    o.request_refund("re_1", 8000, "EUR", "most", T0)
    too_much = o.request_refund("re_2", 1000, "EUR", "more", T0)
    assert (too_much.status, too_much.failure_code) == ("failed", "amount_too_large")
    o.settle_refund(o.refunds[0], False, T0, "refund_declined", None)
    assert o.refunds[0].failure_message == "The gateway refused the refund."
    assert o.request_refund("re_3", 8820, "EUR", "all", T0).status == "pending"


@pytest.mark.parametrize("amount,currency,code", [(8821, "EUR", "amount_too_large"), (0, "EUR", "nothing_to_refund"),
                                                  (100, "USD", "currency_mismatch")])
def test_a_refund_that_cannot_be_made_is_failed_at_once_and_changes_no_payment(amount, currency, code):
    o, p = paid_order()
    r = o.request_refund("re_1", amount, currency, "x", T0)
    assert (r.status, r.failure_code, p.status, o.status) == ("failed", code, "succeeded", "paid")
    assert r.failure_message and not r.awaits_submission


def test_a_free_order_has_nothing_to_refund():
    o = Order("ord_1", "mer_1", "EUR", 0, "not_paid", "card", T0)
    o.record_free_payment("pay_free", T0)
    r = o.request_refund("re_1", 100, "EUR", "x", T0)
    assert (r.status, r.failure_code, r.payment_id) == ("failed", "nothing_to_refund", "pay_free")


def test_an_order_without_a_settled_payment_cannot_be_refunded():
    o = Order("ord_1", "mer_1", "EUR", 8820, "not_paid", "card", T0)
    with pytest.raises(NoPaymentToRefund):
        o.request_refund("re_1", 100, "EUR", "x", T0)
    assert o.refunds == []


def test_an_extra_charge_refunded_automatically_does_not_count_as_the_orders_refund():
    o, p = paid_order()
    extra = Payment("pay_2", o.order_id, "card", "pending", 8820, "EUR", T0, T0, gateway="sandbox")
    o.payments.append(extra)
    auto = o.accept_charge(extra, "ch_2", "re_auto", T0).refund
    o.settle_refund(auto, True, T0)
    assert (extra.status, p.status, o.status, o.refunded_amount) == ("refunded", "succeeded", "paid", 0)
    assert o.succeeded_payment is p  # a merchant's refund still goes to the payment that paid


def test_only_a_pending_bank_transfer_refund_is_confirmed_by_hand():
    o, p = paid_order("bank_transfer")
    r = o.request_refund("re_1", 8820, "EUR", "x", T0)
    assert r.paid_out_by_hand and not r.awaits_submission  # the sweeper never sends it anywhere
    o.confirm_manual_refund(r, T0)
    assert (r.status, p.status, o.status) == ("succeeded", "refunded", "refunded")
    with pytest.raises(Conflict) as again:
        o.confirm_manual_refund(r, T0)
    assert again.value.code == "refund_not_pending"
    card_order, _ = paid_order()
    card_refund = card_order.request_refund("re_2", 100, "EUR", "x", T0)
    with pytest.raises(Conflict) as not_manual:
        card_order.confirm_manual_refund(card_refund, T0)
    assert not_manual.value.code == "refund_not_manual" and card_refund.status == "pending"


# -- the handler and the events it answers with -------------------------------------------------------

RefundsUow = FakePaymentsUow  # its refunds repository finds a refund among its orders' ones


def paid_here(uow: RefundsUow, method="card") -> Order:
    handle(uow, "order.created")
    order = uow.orders[ORDER_ID]
    at = uow.clock.now()
    order.payments.append(Payment("pay_8Wn4ZsD1qR", ORDER_ID, method, "succeeded", 8820, "EUR", at, at,
                                  gateway="sandbox" if method == "card" else None,
                                  charge_id="ch_1" if method == "card" else None))
    order.status = "paid"
    return order


def test_refund_requested_before_its_order_is_known_is_retried_later():
    with pytest.raises(RetryLater):
        handle(RefundsUow(), "refund.requested")


def test_refund_requested_creates_one_pending_refund_and_says_nothing_yet():
    uow = RefundsUow()
    order = paid_here(uow)
    handle(uow, "refund.requested")
    handle(uow, "refund.requested")  # orders re-sent it: same refund id, no second refund
    [refund] = order.refunds
    assert (refund.refund_id, refund.amount, refund.status, refund.reason) == ("re_2Fh6KjL9pQ", 4410, "pending",
                                                                               "one seat unused")
    assert uow.emitted_types() == []


def test_a_refund_that_cannot_be_made_answers_refund_failed_at_once():
    uow = RefundsUow()
    paid_here(uow)
    handle(uow, "refund.requested", amount=9000)
    [event] = uow.emitted
    assert event.type == "refund.failed"
    assert event.data == {"order_id": ORDER_ID, "merchant_id": "mer_7Yb2kQ9xTz", "refund_id": "re_2Fh6KjL9pQ",
                          "amount": 9000, "failure": {"code": "amount_too_large", "message":
                                                      "The amount is more than what is left to refund on the payment."}}


def test_a_refund_of_an_order_not_paid_here_answers_refund_failed_without_a_row():
    uow = RefundsUow()
    handle(uow, "order.created")
    handle(uow, "refund.requested")
    assert uow.emitted_types() == ["refund.failed"] and uow.orders[ORDER_ID].refunds == []
    assert uow.emitted[0].data["failure"]["code"] == "no_payment"


@pytest.mark.parametrize("amount,order_status", [(4410, "paid"), (8820, "refunded")])
def test_payment_refunded_tells_whether_the_order_is_now_fully_refunded(amount, order_status):
    uow = RefundsUow()
    order = paid_here(uow)
    handle(uow, "refund.requested", amount=amount)
    [refund] = order.refunds
    order.settle_refund(refund, True, uow.clock.now())
    announce_refund(order, refund, uow)
    [event] = uow.emitted
    assert event.type == "payment.refunded"
    assert event.data == {"order_id": ORDER_ID, "merchant_id": "mer_7Yb2kQ9xTz", "payment_id": "pay_8Wn4ZsD1qR",
                          "method": "card", "refund_id": "re_2Fh6KjL9pQ", "amount": amount, "currency": "EUR",
                          "order_status": order_status}


def test_automatic_refunds_are_never_announced():
    uow = RefundsUow()
    order = paid_here(uow)
    handle(uow, "order.canceled")  # paid here, canceled there: the payment goes back on our own
    [refund] = order.refunds
    order.settle_refund(refund, True, uow.clock.now())
    announce_refund(order, refund, uow)
    assert refund.automatic and uow.emitted_types() == []



# -- the follow-up after the dispatcher's commit --------------------------------------------------------

def test_a_follow_up_runs_after_the_dispatch_off_the_consumers_thread_and_may_fail(caplog):
    from tillkey.payments.service_layer.follow_ups import DispatchThenFollowUp

    calls = []

    def dispatcher(envelope):
        calls.append(("dispatch", envelope.type, threading.current_thread().name))

    def broken(envelope, deps):
        calls.append(("follow-up", envelope.type, threading.current_thread().name))
        raise ConnectionError("gateway down")

    wrapped = DispatchThenFollowUp(dispatcher, {"refund.requested": broken}, deps=None)
    wrapped(sample_envelope("refund.requested"))  # returns although the follow-up fails
    wrapped(sample_envelope("order.created"))
    wrapped.join()
    me = threading.current_thread().name
    assert sorted(calls) == [("dispatch", "order.created", me), ("dispatch", "refund.requested", me),
                             ("follow-up", "refund.requested", "payments-follow-ups")]
    assert "the gateway sweeper will resume it" in caplog.text


def test_no_follow_up_when_the_dispatch_fails():
    from tillkey.payments.service_layer.follow_ups import DispatchThenFollowUp

    def failing(envelope):
        raise RetryLater("order not known yet")

    ran = []
    wrapped = DispatchThenFollowUp(failing, {"refund.requested": lambda e, d: ran.append(e)}, deps=None)
    with pytest.raises(RetryLater):
        wrapped(sample_envelope("refund.requested"))
    wrapped.join()
    assert ran == []
