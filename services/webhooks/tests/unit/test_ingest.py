"""The consumer's handler with a fake unit of work: sequences, waiting, one delivery per endpoint."""
from datetime import UTC, datetime

import pytest

from tillkey.messaging import RetryLater
from tillkey.testing.fakes import FakeUnitOfWork
from tillkey.testing.messaging import sample_envelope
from tillkey.webhooks.domain.model import Delivery, Endpoint, OrderRecord, WebhookEvent
from tillkey.webhooks.service_layer.ingest import HANDLERS, take_event

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class FakeUow(FakeUnitOfWork):
    def __init__(self, endpoints=(), **kw):
        super().__init__(**kw)
        self.endpoints = list(endpoints)
        self.orders: dict[str, OrderRecord] = {}

    def add(self, obj):
        super().add(obj)
        if isinstance(obj, OrderRecord):
            self.orders[obj.order_id] = obj

    def flush(self):
        pass

    def order_record(self, order_id):
        return self.orders.get(order_id)

    def event(self, event_id):
        return next((o for o in self.added if isinstance(o, WebhookEvent) and o.event_id == event_id), None)

    def live_endpoints(self, merchant_id):
        return [e for e in self.endpoints if e.merchant_id == merchant_id and e.enabled]

    def of(self, cls):
        return [o for o in self.added if isinstance(o, cls)]


def ep(id, events, merchant="mer_7Yb2kQ9xTz", enabled=True):
    return Endpoint(id, merchant, "https://m.example/h", events, "whsec_x", NOW, enabled=enabled)


def test_every_public_type_is_handled():
    assert "license_pool.low" in HANDLERS and "merchant.registered" not in HANDLERS
    assert "webhook_endpoint.disabled" not in HANDLERS


def test_order_created_is_sequence_one_and_later_events_count_up():
    uow = FakeUow([ep("ep_a", ["*"]), ep("ep_b", ["payment.succeeded"]),
                   ep("ep_off", ["*"], enabled=False), ep("ep_other", ["*"], merchant="mer_other")])
    take_event(sample_envelope("order.created"), uow)
    take_event(sample_envelope("payment.succeeded"), uow)
    take_event(sample_envelope("order.delivered"), uow)
    events = uow.of(WebhookEvent)
    assert [e.sequence for e in events] == [1, 2, 3]
    deliveries = [(d.event_type, d.endpoint_id) for d in uow.of(Delivery)]
    assert deliveries == [("order.created", "ep_a"), ("payment.succeeded", "ep_a"), ("payment.succeeded", "ep_b"),
                          ("order.delivered", "ep_a")]
    assert all(d.status == "pending" and d.next_attempt_at == uow.clock.now() for d in uow.of(Delivery))


def test_an_event_for_an_unseen_order_waits():
    uow = FakeUow([ep("ep_a", ["*"])])
    with pytest.raises(RetryLater):
        take_event(sample_envelope("payment.succeeded"), uow)
    assert uow.added == []


def test_payload_carries_custom_and_no_internal_merchant_id():
    import json
    uow = FakeUow([ep("ep_a", ["*"])])
    take_event(sample_envelope("order.created", custom={"shop_ref": "Z-9"}), uow)
    take_event(sample_envelope("order.canceled"), uow)
    body = json.loads(uow.of(WebhookEvent)[1].body)
    assert body["sequence"] == 2 and body["type"] == "order.canceled"
    assert body["data"] == {"order_id": "ord_3Hq8ZrW2mNp5", "reason": body["data"]["reason"],
                            "custom": {"shop_ref": "Z-9"}}


def test_license_pool_low_needs_no_order():
    uow = FakeUow([ep("ep_a", ["license_pool.low"])])
    take_event(sample_envelope("license_pool.low"), uow)
    (event,) = uow.of(WebhookEvent)
    assert event.sequence is None and '"sequence":null' in event.body and "custom" not in event.body


def test_sequence_is_taken_even_without_endpoints():
    uow = FakeUow()
    take_event(sample_envelope("order.created"), uow)
    take_event(sample_envelope("order.deleted"), uow)
    assert uow.orders["ord_3Hq8ZrW2mNp5"].next_sequence == 3
    assert uow.of(WebhookEvent) == []
