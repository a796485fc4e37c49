import json

import pytest

from tillkey.contracts import InvalidMessage, event_types, load_sample, make_event, parse_message, sample_paths
from tillkey.contracts.registry import PUBLIC_EVENT_TYPES


def test_every_contract_has_a_golden_sample_and_every_sample_a_contract():
    sampled = {p.name for p in sample_paths()}
    registered = {f"{t}.v{v}.json" for t, v in event_types()}
    assert sampled == registered


@pytest.mark.parametrize("type_version", event_types(), ids=lambda tv: f"{tv[0]}.v{tv[1]}")
def test_golden_sample_round_trips(type_version):
    sample = load_sample(*type_version)
    env = parse_message(json.dumps(sample))
    assert env.type == type_version[0]
    assert env.data == sample["data"]
    assert parse_message(env.to_json()) == env


def test_public_events_name_their_merchant():
    for t in PUBLIC_EVENT_TYPES:
        assert load_sample(t)["data"]["merchant_id"].startswith("mer_")


def test_readers_ignore_unknown_fields():
    sample = load_sample("order.delivered")
    sample["new_envelope_field"] = 1
    sample["data"]["added_later"] = "x"
    env = parse_message(json.dumps(sample))
    assert "added_later" not in env.data


UNKNOWN_TYPE = json.dumps({**load_sample("order.deleted"), "type": "nope"}).encode()


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"id": "x"}', UNKNOWN_TYPE])
def test_off_contract_messages_are_invalid(body):
    with pytest.raises(InvalidMessage):
        parse_message(body)


def test_data_off_contract_is_refused_on_both_sides():
    bad = load_sample("payment.succeeded")
    bad["data"]["amount"] = -1
    with pytest.raises(InvalidMessage):
        parse_message(json.dumps(bad))
    with pytest.raises(InvalidMessage):
        make_event("payment.succeeded", bad["data"], "payments")


def test_caused_event_keeps_the_correlation():
    first = make_event("order.deleted", load_sample("order.deleted")["data"], "orders")
    second = first.caused("order.delivered", load_sample("order.delivered")["data"], "orders")
    assert second.correlation_id == first.id and second.causation_id == first.id
