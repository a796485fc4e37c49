"""The consumer's handler with a fake unit of work: sequences, waiting, one delivery per endpoint."""

import pytest

from tillkey.messaging import RetryLater
from tillkey.testing.messaging import sample_envelope
from tillkey.webhooks.domain.model import Attempt, Delivery, Endpoint, WebhookEvent
from tillkey.webhooks.service_layer.handlers import EVENT_HANDLERS as HANDLERS
from tillkey.webhooks.service_layer.ingest import take_event as take_event_with

from .conftest import NOW, FakeUnitOfWork, make_deps

DEPS = make_deps()


class FakeUow(FakeUnitOfWork):
    @property
    def orders(self):
        return self.order_records.items


def take_event(event, uow):
    take_event_with(event, uow, DEPS)


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
    assert all(d.status == "pending" and d.next_attempt_at == DEPS.clock.now() for d in uow.of(Delivery))


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


# -- order.deleted: erasure ------------------------------------------------------------------
EMAIL = "ada@example.com"


def take(uow, type_, **data):
    """The event through every handler of its type, as the dispatcher runs them."""
    for handler in HANDLERS[type_]:
        handler.handle(sample_envelope(type_, **data), uow, DEPS)


def test_order_deleted_erases_first_then_delivers():
    assert [h.name for h in HANDLERS["order.deleted"]] == ["erase_order", "take_event"]


def test_deletion_erases_the_stored_order_created_and_echoes_but_keeps_the_rest():
    import json
    uow = FakeUow([ep("ep_a", ["*"])])
    take(uow, "order.created")
    take(uow, "payment.pending")
    created, pending = uow.of(WebhookEvent)
    before_pending = pending.body
    delivery = uow.of(Delivery)[0]
    uow.add(Attempt("wha_1", delivery.delivery_id, NOW, 5, 400, response_excerpt=f'{{"echo":"{EMAIL}","n":"Ada"}}'))
    uow.add(Attempt("wha_2", delivery.delivery_id, NOW, 5, 500, response_excerpt="Adapter failed"))
    take(uow, "order.deleted")
    data = json.loads(created.body)["data"]
    assert data["customer"] == {"email": None, "first_name": None, "last_name": None, "country": "GB",
                                "company": None, "vat_id": None, "locale": "en"}
    assert data["total"] == 8820 and data["lines"][0]["line_id"] == "line_9Kd2PqX7aB"
    assert data["custom"] == {"shop_ref": "A-1001"} and json.loads(created.body)["sequence"] == 1
    assert pending.body == before_pending  # nothing personal in it: not even re-serialised differently
    excerpts = [a.response_excerpt for a in uow.of(Attempt)]
    assert excerpts == ['{"echo":"[erased]","n":"[erased]"}', "Adapter failed"]
    assert uow.orders["ord_3Hq8ZrW2mNp5"].erased_at == DEPS.clock.now()
    deleted = uow.of(WebhookEvent)[-1]
    assert deleted.type == "order.deleted" and deleted.sequence == 3


def test_deletion_before_creation_leaves_a_tombstone_and_the_late_order_is_stored_erased():
    import json
    uow = FakeUow([ep("ep_a", ["*"])])
    with pytest.raises(RetryLater):
        take(uow, "order.deleted")  # erased first (its own transaction), then waits for order.created
    tomb = uow.orders["ord_3Hq8ZrW2mNp5"]
    assert tomb.awaits_created and tomb.erased_at is not None and uow.of(WebhookEvent) == []
    with pytest.raises(RetryLater):
        take_event(sample_envelope("payment.succeeded"), uow)  # still waits: sequence 1 is order.created's
    take_event(sample_envelope("order.created", custom={"shop_ref": "late"}), uow)
    take_event(sample_envelope("order.deleted"), uow)  # its retry: the erasure already ran (inbox)
    created, deleted = uow.of(WebhookEvent)
    body = json.loads(created.body)
    assert body["sequence"] == 1 and body["data"]["customer"]["email"] is None
    assert body["data"]["custom"] == {"shop_ref": "late"} and body["data"]["total"] == 8820
    assert EMAIL not in created.body and "Lovelace" not in created.body
    deleted_body = json.loads(deleted.body)
    assert deleted_body["sequence"] == 2 and deleted_body["data"]["custom"] == {"shop_ref": "late"}


def test_erasing_twice_changes_nothing_more():
    uow = FakeUow([ep("ep_a", ["*"])])
    take(uow, "order.created")
    take(uow, "order.deleted")
    first = (uow.of(WebhookEvent)[0].body, uow.orders["ord_3Hq8ZrW2mNp5"].erased_at)
    from tillkey.webhooks.service_layer.erasure import erase_order
    erase_order(sample_envelope("order.deleted", new_id=True), uow, DEPS)
    assert (uow.of(WebhookEvent)[0].body, uow.orders["ord_3Hq8ZrW2mNp5"].erased_at) == first
