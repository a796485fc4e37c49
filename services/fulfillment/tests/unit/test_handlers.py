"""Handlers fed the golden samples of every event fulfillment consumes, over a fake unit of work."""
from __future__ import annotations

from dataclasses import replace

import pytest

from tillkey.contracts import load_sample
from tillkey.fulfillment.service_layer import handlers
from tillkey.messaging import RetryLater
from tillkey.testing.messaging import sample_envelope

from .conftest import FakeFulfillmentUow, make_deps

CONSUMED = ("product.created", "product.updated", "order.created", "order.deleted", "order.paid", "payment.refunded",
            "merchant.api_key_revoked")
ORDER_ID = load_sample("order.created")["data"]["order_id"]
PRODUCT_ID = load_sample("product.created")["data"]["product_id"]


def handle(uow, type, occurred_at=None, **data):
    event = sample_envelope(type, **data)
    if occurred_at:
        event = replace(event, occurred_at=occurred_at)
    for handler in handlers.EVENT_HANDLERS[event.type]:
        handler.handle(event, uow, make_deps())
    return event


def test_every_consumed_type_has_a_handler_and_a_golden_sample():
    assert sorted(handlers.EVENT_HANDLERS) == sorted(CONSUMED)
    for type in CONSUMED:
        assert load_sample(type)["type"] == type


def test_product_created_then_updated():
    uow = FakeFulfillmentUow()
    handle(uow, "product.created")
    product = uow.products[PRODUCT_ID]
    assert (product.merchant_id, product.name, product.active) == ("mer_7Yb2kQ9xTz", "Pro Editor", True)
    handle(uow, "product.updated", occurred_at="2026-11-27T10:05:00.000Z")
    assert (product.name, product.active) == ("Pro Editor 2", False)
    assert len(uow.added) == 1


def test_an_older_product_message_never_overwrites_a_newer_one():
    uow = FakeFulfillmentUow()
    handle(uow, "product.updated", occurred_at="2026-11-27T10:05:00.000Z")
    handle(uow, "product.created")  # overtaken by the update on a retry path
    assert uow.products[PRODUCT_ID].name == "Pro Editor 2"


def test_order_created_keeps_lines_and_what_a_license_call_needs():
    uow = FakeFulfillmentUow()
    handle(uow, "order.created")
    order = uow.orders[ORDER_ID]
    assert (order.merchant_id, order.status) == ("mer_7Yb2kQ9xTz", "not_paid")
    assert order.customer == {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace",
                              "country": "GB"}
    [line] = order.deliveries
    assert (line.line_id, line.product_id, line.quantity) == ("line_9Kd2PqX7aB", "prod_5Tg7LmN2cV", 2)
    assert (line.status, line.method, line.reason, line.licenses, line.delivered_at) == (
        "pending", None, None, [], None)
    assert not hasattr(order, "company") and not hasattr(order, "vat_id")  # only what fulfillment needs


def test_order_created_again_changes_nothing():
    uow = FakeFulfillmentUow()
    handle(uow, "order.created")
    handle(uow, "order.created", merchant_id="mer_somebodyElse")
    assert len(uow.added) == 1 and uow.orders[ORDER_ID].merchant_id == "mer_7Yb2kQ9xTz"


def test_lines_keep_the_order_of_the_order():
    sample = load_sample("order.created")["data"]["lines"][0]
    lines = [dict(sample, line_id=f"line_{n}", product_id=f"prod_{n}") for n in ("b", "a", "c")]
    uow = FakeFulfillmentUow()
    handle(uow, "order.created", lines=lines)
    assert [d.line_id for d in uow.orders[ORDER_ID].deliveries] == ["line_b", "line_a", "line_c"]
    assert [d.position for d in uow.orders[ORDER_ID].deliveries] == [0, 1, 2]


def test_order_deleted_erases_the_customer_and_keeps_the_lines():
    uow = FakeFulfillmentUow()
    handle(uow, "order.created")
    handle(uow, "order.deleted")
    order = uow.orders[ORDER_ID]
    assert order.status == "deleted" and order.is_deleted
    assert order.customer == {"email": None, "first_name": None, "last_name": None, "country": None}
    assert len(order.deliveries) == 1
    handle(uow, "order.deleted")  # again: still erased, no error
    assert order.email is None


def test_order_deleted_erases_generated_keys_activations_and_key_text():
    from datetime import UTC, datetime

    from tillkey.fulfillment.domain.licensing import Activation, GeneratedKey
    now = datetime(2026, 11, 28, tzinfo=UTC)
    uow = FakeFulfillmentUow()
    handle(uow, "order.created")
    order = uow.orders[ORDER_ID]
    key = GeneratedKey(key_id="lk_1", product_id=PRODUCT_ID, merchant_id=order.merchant_id, order_id=ORDER_ID,
                       line_id=order.deliveries[0].line_id, key="KEY-AAAAA", key_hash="h", token="t",
                       activation_limit=None, issued_at=now, expires_at=None)
    uow.generated_keys.add(key)
    uow.activations.add(Activation("act_1", "lk_1", "Ada's laptop", "fingerprint-1", now))
    uow.activations.add(Activation("act_2", "lk_other", "someone else", "fingerprint-2", now))
    handle(uow, "order.deleted")
    assert key.key is None and key.status == "revoked" and key.revoked_reason == "order_deleted"
    assert [a.activation_id for a in uow.activations] == ["act_2"]  # another order's machine stays


def test_erasing_an_order_not_known_yet_is_retried_later():
    with pytest.raises(RetryLater):
        handle(FakeFulfillmentUow(), "order.deleted")
