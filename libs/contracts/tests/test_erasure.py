"""The one definition of a customer's personal data, and erasing it from event data."""
import json

from tillkey.contracts import load_sample, schema_for
from tillkey.contracts.orders_events import (
    PERSONAL_CUSTOMER_FIELDS,
    Customer,
    erase_customer,
    erase_order_data,
    personal_values,
)
from tillkey.contracts.registry import event_types

SAMPLE_CUSTOMER = load_sample("order.created")["data"]["customer"]


def test_personal_fields_are_customer_fields_and_country_locale_are_not_personal():
    assert set(PERSONAL_CUSTOMER_FIELDS) <= set(Customer().fields)
    assert {"country", "locale"}.isdisjoint(PERSONAL_CUSTOMER_FIELDS)


def test_erase_customer_nulls_exactly_the_personal_fields_and_leaves_the_input_alone():
    erased = erase_customer(SAMPLE_CUSTOMER)
    assert erased == {"email": None, "first_name": None, "last_name": None, "country": "GB",
                      "company": None, "vat_id": None, "locale": "en"}
    assert SAMPLE_CUSTOMER["email"] == "ada@example.com"  # a copy, not an edit
    assert erase_customer(None) is None
    # Fields the customer did not give are not invented.
    assert erase_customer({"email": "x@y.z", "country": "DE"}) == {"email": None, "country": "DE"}


def test_erased_order_keeps_amounts_lines_ids_custom_and_still_meets_its_contract():
    data = load_sample("order.created")["data"]
    erased = erase_order_data(data)
    assert erased["customer"]["email"] is None and data["customer"]["email"] == "ada@example.com"
    assert {k: v for k, v in erased.items() if k != "customer"} == {k: v for k, v in data.items() if k != "customer"}
    assert schema_for("order.created", 1).load(erased)["customer"]["first_name"] is None
    assert erase_order_data(erased) == erased  # erasing twice changes nothing


def test_no_event_carries_the_customer_outside_order_data_customer():
    """Every event type's golden sample, erased, holds none of the customer's personal values."""
    needles = personal_values(load_sample("order.created")["data"])
    assert sorted(needles) == sorted(SAMPLE_CUSTOMER[f] for f in PERSONAL_CUSTOMER_FIELDS)
    for type_, version in event_types():
        text = json.dumps(erase_order_data(load_sample(type_, version)["data"]))
        assert not [n for n in needles if n in text], type_


def test_personal_values_skips_blanks_and_data_without_customer():
    assert personal_values({"order_id": "ord_1"}) == []
    assert personal_values({"customer": {"email": " ", "first_name": None, "last_name": "Lee"}}) == ["Lee"]
