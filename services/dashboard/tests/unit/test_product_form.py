import pytest

from tillkey.dashboard.service_layer.catalog import read_product_form
from tillkey.dashboard.service_layer.errors import Rejected


def test_the_form_becomes_the_orders_apis_body():
    form = read_product_form({"name": " Pro ", "currency_0": "eur", "amount_0": "49.00", "currency_1": "JPY",
                              "amount_1": "7800", "default_currency": "", "active": "on"})
    assert form.body() == {"name": "Pro", "prices": {"EUR": 4900, "JPY": 7800}, "default_currency": "EUR",
                           "active": True}


@pytest.mark.parametrize("fields, wrong", [
    ({"name": "", "currency_0": "EUR", "amount_0": "1"}, "name"),
    ({"name": "x" * 201, "currency_0": "EUR", "amount_0": "1"}, "name"),
    ({"name": "P"}, "amount_0"),
    ({"name": "P", "currency_0": "EUR", "amount_0": "1", "currency_1": "eur", "amount_1": "2"}, "amount_1"),
    ({"name": "P", "currency_0": "EUR", "amount_0": "1", "default_currency": "USD"}, "default_currency"),
    ({"name": "P", "currency_0": "XXQ", "amount_0": "1"}, "amount_0"),
])
def test_every_problem_is_named_by_its_field(fields, wrong):
    with pytest.raises(Rejected) as caught:
        read_product_form(fields)
    assert wrong in caught.value.errors


def test_unchecked_active_means_inactive():
    assert read_product_form({"name": "P", "currency_0": "EUR", "amount_0": "1"}).active is False
