from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from tillkey.dashboard.service_layer.coupons import read_coupon_form
from tillkey.dashboard.service_layer.errors import Rejected

TODAY = date(2026, 3, 31)


def test_a_percentage_coupon_for_one_product_until_a_day_for_so_many_orders():
    body = read_coupon_form({"code": "SPRING-10", "kind": "percent", "percent": "10", "product_id": "prod_1",
                             "expires_on": "2026-04-30", "max_redemptions": "100"}, TODAY)
    assert body == {"code": "SPRING-10", "percent_off": 10, "product_ids": ["prod_1"],
                    "expires_at": "2026-04-30T23:59:59Z", "max_redemptions": 100}


def test_an_amount_coupon_is_in_minor_units_of_its_currency():
    body = read_coupon_form({"code": "FIVE", "kind": "amount", "amount": "5", "currency": "eur", "percent": "x"}, TODAY)
    assert body == {"code": "FIVE", "amount_off": {"EUR": 500}}


@pytest.mark.parametrize("fields, wrong", [
    ({"code": "-bad", "percent": "10"}, "code"), ({"code": "A", "percent": "0"}, "percent"),
    ({"code": "A", "percent": "101"}, "percent"), ({"code": "A", "kind": "amount", "amount": "5"}, "amount"),
    ({"code": "A", "kind": "amount", "amount": "5.5", "currency": "JPY"}, "amount"),
    ({"code": "A", "percent": "5", "expires_on": "2026-03-30"}, "expires_on"),
    ({"code": "A", "percent": "5", "expires_on": "tomorrow"}, "expires_on"),
    ({"code": "A", "percent": "5", "max_redemptions": "0"}, "max_redemptions")])
def test_each_wrong_field_is_named(fields, wrong):
    with pytest.raises(Rejected) as caught:
        read_coupon_form(fields, TODAY)
    assert wrong in caught.value.errors


def test_amounts_in_several_currencies_for_several_products():
    form = MultiDict([("code", "TEN"), ("kind", "amount"), ("amount", "10"), ("currency", "eur"),
                      ("amount", ""), ("currency", ""), ("amount", "1500"), ("currency", "JPY"),
                      ("product_id", "prod_1"), ("product_id", "prod_2"), ("product_id", "prod_1")])
    assert read_coupon_form(form, TODAY) == {"code": "TEN", "amount_off": {"EUR": 1000, "JPY": 1500},
                                             "product_ids": ["prod_1", "prod_2"]}


@pytest.mark.parametrize("rows, expected", [
    ([("5", "EUR"), ("6", "eur")], "EUR is given twice"),
    ([("5", "EUR"), ("5.5", "JPY")], "JPY: "),
    ([("5", "EUR"), ("5", "XXX")], "Row 2: "),
    ([("", ""), ("", "")], "An amount and its currency"),
    ([("", "EUR")], "EUR: "),
])
def test_each_wrong_amount_row_is_named_and_nothing_is_kept(rows, expected):
    pairs = [p for a, c in rows for p in (("amount", a), ("currency", c))]
    form = MultiDict([("code", "A"), ("kind", "amount"), *pairs])
    with pytest.raises(Rejected) as caught:
        read_coupon_form(form, TODAY)
    assert any(expected in m for m in caught.value.errors["amount"]), caught.value.errors
