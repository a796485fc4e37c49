"""The webhook `data` for each public type is the field list of docs/integration.md, "Webhooks" (plus `custom`)."""
import json

import pytest

from tillkey.contracts import PUBLIC_EVENT_TYPES, load_sample, parse_message
from tillkey.webhooks.domain import payload

SPEC_FIELDS = {
    "payment.succeeded": {"order_id", "payment_id", "method", "amount", "currency"},
    "payment.failed": {"order_id", "payment_id", "method", "failure"},
    "payment.pending": {"order_id", "payment_id", "method", "instructions"},
    "product.delivered": {"order_id", "line_id", "product_id", "quantity", "method", "licenses"},
    "order.delivered": {"order_id"},
    "license.requested": {"order_id", "line_id", "product_id", "quantity", "reason"},
    "payment.refunded": {"order_id", "payment_id", "refund_id", "amount", "currency", "order_status"},
    "order.canceled": {"order_id", "reason"},
    "order.deleted": {"order_id"},
}


def test_every_public_type_is_covered():
    assert set(payload.PUBLIC_FIELDS) == set(PUBLIC_EVENT_TYPES)


@pytest.mark.parametrize("event_type", sorted(SPEC_FIELDS))
def test_order_events_carry_spec_fields_and_custom(event_type):
    env = parse_message(json.dumps(load_sample(event_type)))
    data = payload.public_data(event_type, env.data, {"shop_ref": "A-1"})
    assert set(data) == SPEC_FIELDS[event_type] | {"custom"}
    assert data["custom"] == {"shop_ref": "A-1"}
    assert "merchant_id" not in data


def test_order_created_is_the_whole_order():
    env = parse_message(json.dumps(load_sample("order.created")))
    data = payload.public_data("order.created", env.data, env.data["custom"])
    assert data == env.data


def test_license_pool_low_has_no_custom():
    env = parse_message(json.dumps(load_sample("license_pool.low")))
    assert payload.public_data("license_pool.low", env.data, None) == {
        "product_id": "prod_5Tg7LmN2cV", "available": 3, "low_stock_threshold": 5}


def test_body_shape():
    body = json.loads(payload.body("evt_1", "order.deleted", "2026-01-01T00:00:00.000Z", 4, {"order_id": "ord_1"}))
    assert body == {"id": "evt_1", "type": "order.deleted", "created_at": "2026-01-01T00:00:00.000Z",
                    "sequence": 4, "data": {"order_id": "ord_1"}}


# The exact bytes merchants receive, and verify the signature over: a change here breaks every
# receiver that compares them (keys, their order, separators, no spaces, numbers as they came).
PINNED = {
    "payment.succeeded": '{"id":"evt_00000000000000000000000000000019","type":"payment.succeeded",'
                         '"created_at":"2026-11-27T10:00:00.000Z","sequence":2,"data":{"order_id":"ord_3Hq8ZrW2mNp5",'
                         '"payment_id":"pay_8Wn4ZsD1qR","method":"card","amount":8820,"currency":"EUR",'
                         '"custom":{"shop_ref":"A-1"}}}',
    "product.delivered": '{"id":"evt_0000000000000000000000000000001e","type":"product.delivered",'
                         '"created_at":"2026-11-27T10:00:00.000Z","sequence":2,"data":{"order_id":"ord_3Hq8ZrW2mNp5",'
                         '"line_id":"line_9Kd2PqX7aB","product_id":"prod_5Tg7LmN2cV","quantity":2,"method":"pool",'
                         '"licenses":["KEY-AAAA-1111","KEY-BBBB-2222"],"custom":{"shop_ref":"A-1"}}}',
}


@pytest.mark.parametrize("event_type", sorted(PINNED))
def test_the_body_of_a_golden_sample_is_byte_for_byte_what_it_was(event_type):
    env = parse_message(json.dumps(load_sample(event_type)))
    data = payload.public_data(event_type, env.data, {"shop_ref": "A-1"})
    assert payload.body(env.id, env.type, env.occurred_at, 2, data) == PINNED[event_type]
