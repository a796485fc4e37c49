import pytest

from tillkey.dashboard.service_layer.errors import Rejected
from tillkey.dashboard.service_layer.links import build_link

PRODUCT = {"checkout_url": "https://shop.example/buy/prod_1", "prices": {"EUR": 4900, "JPY": 7800}}


def test_the_link_carries_what_the_form_sets_and_nothing_for_blank_fields():
    assert build_link(PRODUCT, {"quantity": "", "currency": ""}) == PRODUCT["checkout_url"]
    link = build_link(PRODUCT, {"quantity": "2", "currency": "jpy", "coupon": "SPRING-10", "custom_key_0": "ref",
                                "custom_value_0": "news letter&x=1"})
    assert link == ("https://shop.example/buy/prod_1?quantity=2&currency=JPY&coupon=SPRING-10"
                    "&custom%5Bref%5D=news+letter%26x%3D1")


@pytest.mark.parametrize("form, field", [({"quantity": "0"}, "quantity"), ({"quantity": "1001"}, "quantity"),
                                         ({"quantity": "two"}, "quantity"), ({"currency": "USD"}, "currency"),
                                         ({"coupon": "no spaces"}, "coupon"),
                                         ({"custom_key_1": "a b", "custom_value_1": "x"}, "custom_key_1"),
                                         ({"custom_key_0": "ref"}, "custom_key_0")])
def test_each_wrong_field_is_named(form, field):
    with pytest.raises(Rejected) as caught:
        build_link(PRODUCT, form)
    assert field in caught.value.errors
