"""Handlers fed the golden samples of every event notifications consumes, over a fake unit of work."""
from __future__ import annotations

import pytest

from tillkey.contracts import load_sample
from tillkey.messaging import RetryLater
from tillkey.notifications.domain.model import MerchantContact, OrderRecipient
from tillkey.notifications.service_layer import handlers
from tillkey.testing.fakes import FakeUnitOfWork
from tillkey.testing.messaging import sample_envelope

CONSUMED = ("merchant.registered", "order.created", "order.deleted")
ORDER_ID = load_sample("order.created")["data"]["order_id"]


class FakeNotificationsUow(FakeUnitOfWork):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.recipients: dict[str, OrderRecipient] = {}
        self.merchants: dict[str, MerchantContact] = {}

    def recipient(self, order_id):
        return self.recipients.get(order_id)

    def merchant(self, merchant_id):
        return self.merchants.get(merchant_id)

    def add(self, obj):
        super().add(obj)
        if isinstance(obj, OrderRecipient):
            self.recipients[obj.order_id] = obj
        elif isinstance(obj, MerchantContact):
            self.merchants[obj.merchant_id] = obj


def handle(uow, type, **data):
    event = sample_envelope(type, **data)
    for handler in handlers.HANDLERS[event.type]:
        handler(event, uow)


def test_every_consumed_type_has_a_handler_and_a_golden_sample():
    assert sorted(handlers.HANDLERS) == sorted(CONSUMED)
    for type in CONSUMED:
        assert load_sample(type)["type"] == type


def test_merchant_registered_is_remembered_then_updated():
    uow = FakeNotificationsUow()
    handle(uow, "merchant.registered")
    contact = uow.merchants["mer_7Yb2kQ9xTz"]
    assert (contact.name, contact.email) == ("Acme Software", "billing@acme.example")
    handle(uow, "merchant.registered", email="ops@acme.example")
    assert contact.email == "ops@acme.example" and len(uow.added) == 1


def test_order_created_remembers_the_recipient_once():
    uow = FakeNotificationsUow()
    handle(uow, "order.created")
    recipient = uow.recipients[ORDER_ID]
    assert (recipient.merchant_id, recipient.email, recipient.first_name, recipient.locale) == (
        "mer_7Yb2kQ9xTz", "ada@example.com", "Ada", "en")
    handle(uow, "order.created", customer={**load_sample("order.created")["data"]["customer"], "email": "x@y.z"})
    assert recipient.email == "ada@example.com" and len(uow.added) == 1


def test_a_missing_locale_means_english():
    customer = {**load_sample("order.created")["data"]["customer"], "locale": None}
    uow = FakeNotificationsUow()
    handle(uow, "order.created", customer=customer)
    assert uow.recipients[ORDER_ID].locale == "en"


def test_order_deleted_erases_the_recipient():
    uow = FakeNotificationsUow()
    handle(uow, "order.created")
    handle(uow, "order.deleted")
    recipient = uow.recipients[ORDER_ID]
    assert (recipient.email, recipient.first_name) == (None, None)
    assert recipient.merchant_id == "mer_7Yb2kQ9xTz"  # kept: not personal data


def test_an_erasure_that_overtakes_its_order_is_retried_not_dropped():
    with pytest.raises(RetryLater):
        handle(FakeNotificationsUow(), "order.deleted")
