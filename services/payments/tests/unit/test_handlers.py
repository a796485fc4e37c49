"""Handlers fed the golden samples of every event payments consumes, over a fake unit of work."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tillkey.contracts import load_sample
from tillkey.messaging import PermanentError, RetryLater
from tillkey.payments.domain.model import Payment
from tillkey.payments.service_layer import handlers

from .conftest import FakePaymentsUow, handle

CONSUMED = ("merchant.registered", "order.created", "order.canceled", "order.deleted", "refund.requested",
            "merchant.api_key_revoked")
ORDER_ID = load_sample("order.created")["data"]["order_id"]


def test_every_consumed_type_has_a_handler_and_a_golden_sample():
    assert sorted(handlers.EVENT_HANDLERS) == sorted(CONSUMED)
    for type in CONSUMED:
        assert load_sample(type)["type"] == type


def test_order_created_keeps_what_paying_needs():
    uow = FakePaymentsUow()
    handle(uow, "order.created")
    order = uow.orders[ORDER_ID]
    assert (order.merchant_id, order.currency, order.amount) == ("mer_7Yb2kQ9xTz", "EUR", 8820)
    assert (order.status, order.payment_method) == ("not_paid", "card")
    assert order.created_at == datetime(2026, 11, 27, 10, tzinfo=UTC)
    assert order.payments == [] and uow.emitted == []
    assert not hasattr(order, "email")  # payments keeps no customer personal data


def test_order_created_again_changes_nothing():
    uow = FakePaymentsUow()
    handle(uow, "order.created")
    handle(uow, "order.created", total=1, currency="USD")
    assert len(uow.added) == 1
    assert (uow.orders[ORDER_ID].amount, uow.orders[ORDER_ID].currency) == (8820, "EUR")


def test_a_free_order_known_already_emits_nothing_again():
    uow = FakePaymentsUow()
    handle(uow, "order.created", total=0, discount=9800)
    [payment] = uow.orders[ORDER_ID].payments
    handle(uow, "order.created", total=0, discount=9800)
    assert uow.orders[ORDER_ID].payments == [payment] and len(uow.emitted) == 1


def test_a_free_order_records_a_succeeded_free_payment_and_emits_payment_succeeded():
    uow = FakePaymentsUow()
    handle(uow, "order.created", total=0, discount=9800)
    order = uow.orders[ORDER_ID]
    assert order.status == "paid"
    [payment] = order.payments
    assert (payment.method, payment.status, payment.amount, payment.currency) == ("free", "succeeded", 0, "EUR")
    assert payment.payment_id.startswith("pay_")
    [event] = uow.emitted
    assert event.type == "payment.succeeded"
    assert event.data == {"order_id": ORDER_ID, "merchant_id": "mer_7Yb2kQ9xTz", "payment_id": payment.payment_id,
                          "method": "free", "amount": 0, "currency": "EUR"}


@pytest.mark.parametrize("type,status", [("order.canceled", "canceled"), ("order.deleted", "deleted")])
def test_closing_an_order_cancels_its_open_attempts_only(type, status):
    uow = FakePaymentsUow()
    handle(uow, "order.created")
    order = uow.orders[ORDER_ID]
    at = uow.clock.now()
    order.payments += [Payment("pay_open", ORDER_ID, "bank_transfer", "awaiting_funds", 8820, "EUR", at, at),
                       Payment("pay_failed", ORDER_ID, "card", "failed", 8820, "EUR", at, at)]
    handle(uow, type)
    assert order.status == status
    assert [p.status for p in order.payments] == ["canceled", "failed"]
    handle(uow, type)  # the same news again: no error, no change
    assert order.status == status


@pytest.mark.parametrize("type", ["order.canceled", "order.deleted"])
def test_closing_an_order_not_known_yet_is_retried_later(type):
    with pytest.raises(RetryLater):
        handle(FakePaymentsUow(), type)


@pytest.mark.parametrize("type,status", [("order.canceled", "canceled"), ("order.deleted", "deleted")])
def test_closing_an_order_paid_here_by_card_refunds_the_charge(type, status):
    # Orders closed it before it heard of our payment.succeeded: orders decides, the money goes back.
    uow = FakePaymentsUow()
    handle(uow, "order.created")
    order = uow.orders[ORDER_ID]
    at = uow.clock.now()
    paid = Payment("pay_paid", ORDER_ID, "card", "succeeded", 8820, "EUR", at, at, gateway="sandbox",
                   charge_id="ch_1")
    order.payments.append(paid)
    order.status = "paid"
    handle(uow, type)
    assert order.status == status
    [refund] = order.refunds
    assert (refund.payment_id, refund.amount, refund.charge_id, refund.status) == ("pay_paid", 8820, "ch_1", "pending")
    assert refund.automatic and refund.awaits_submission and refund.refund_id.startswith("re_")
    handle(uow, type)  # redelivered: still one refund
    assert len(order.refunds) == 1
    assert uow.emitted_types() == []  # no second word to merchants; the refund is internal


def test_closing_a_free_order_paid_here_follows_orders_with_nothing_to_refund():
    uow = FakePaymentsUow()
    handle(uow, "order.created", total=0, discount=9800)
    handle(uow, "order.canceled")
    assert uow.orders[ORDER_ID].status == "canceled" and uow.orders[ORDER_ID].refunds == []


def test_deleting_an_order_refunded_here_is_a_permanent_conflict():
    uow = FakePaymentsUow()
    handle(uow, "order.created")
    uow.orders[ORDER_ID].status = "refunded"
    with pytest.raises(PermanentError):
        handle(uow, "order.deleted")
    assert uow.orders[ORDER_ID].status == "refunded"


def test_merchant_registered_is_remembered_and_renamed():
    uow = FakePaymentsUow()
    handle(uow, "merchant.registered")
    assert uow.merchants["mer_7Yb2kQ9xTz"].name == "Acme Software"
    handle(uow, "merchant.registered", name="Acme Inc")
    assert uow.merchants["mer_7Yb2kQ9xTz"].name == "Acme Inc"
    assert len(uow.added) == 1
