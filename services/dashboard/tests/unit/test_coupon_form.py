from datetime import date

import pytest

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
