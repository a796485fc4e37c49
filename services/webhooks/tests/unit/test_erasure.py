"""Erasing stored webhook bodies and echoed texts (pure)."""
import json

import pytest

from tillkey.contracts import PUBLIC_EVENT_TYPES, load_sample
from tillkey.webhooks.domain import erasure, payload
from tillkey.webhooks.domain.model import OrderRecord

CUSTOMER = load_sample("order.created")["data"]["customer"]


def stored_body(type_: str) -> str:
    sample = load_sample(type_)
    return payload.body(sample["id"], type_, sample["occurred_at"], 1,
                        payload.public_data(type_, sample["data"], {"shop_ref": "A-1"}))


def test_order_created_body_loses_exactly_the_personal_fields():
    before = stored_body("order.created")
    after = erasure.erase_body(before)
    old, new = json.loads(before), json.loads(after)
    assert list(new) == list(old) and list(new["data"]) == list(old["data"])  # same shape, same key order
    assert {k: v for k, v in new.items() if k != "data"} == {k: v for k, v in old.items() if k != "data"}
    assert new["data"]["customer"] == {**CUSTOMER, "email": None, "first_name": None, "last_name": None,
                                       "company": None, "vat_id": None}
    assert {k: v for k, v in new["data"].items() if k != "customer"} == \
        {k: v for k, v in old["data"].items() if k != "customer"}
    for value in ("ada@example.com", "Ada", "Lovelace", "Analytical Engines", "GB123456789"):
        assert value not in after
    assert erasure.erase_body(after) == after
    assert sorted(erasure.body_personal_values(before)) == sorted(
        ["ada@example.com", "Ada", "Lovelace", "Analytical Engines Ltd", "GB123456789"])
    assert erasure.body_personal_values(after) == []


@pytest.mark.parametrize("type_", sorted(set(PUBLIC_EVENT_TYPES) - {"order.created"}))
def test_other_bodies_carry_nothing_personal_and_stay_byte_identical(type_):
    body = stored_body(type_)
    assert erasure.erase_body(body) == body
    assert erasure.body_personal_values(body) == []


def test_scrub_replaces_whole_words_case_insensitively_and_json_escaped_forms():
    values = ["ada@example.com", "Ada", "Zoë"]
    assert erasure.scrub("got ADA@example.com from Ada", values) == "got [erased] from [erased]"
    assert erasure.scrub("Adapter and Canada stay", values) == "Adapter and Canada stay"
    assert erasure.scrub('{"name":"Zo\\u00eb"}', values) == '{"name":"[erased]"}'
    assert erasure.scrub("a.b (x+y)", ["(x+y)"]) == "a.b [erased]"  # regex characters are literal
    assert erasure.scrub(None, values) is None and erasure.scrub("Ada", []) == "Ada"


def test_tombstone_waits_for_order_created_and_erasure_keeps_its_first_time():
    from datetime import UTC, datetime, timedelta
    now = datetime(2026, 1, 1, tzinfo=UTC)
    tomb = OrderRecord.tombstone("ord_1", "mer_1", now)
    assert tomb.awaits_created and tomb.erased_at == now and tomb.custom == {}
    assert tomb.take_sequence() == 1 and not tomb.awaits_created
    tomb.erase(now + timedelta(days=1))
    assert tomb.erased_at == now
