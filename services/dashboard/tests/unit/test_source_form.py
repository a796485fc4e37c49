"""The license source form → the fulfillment API's body: the chosen method and only its fields."""
import pytest

from tillkey.dashboard.service_layer.errors import Rejected
from tillkey.dashboard.service_layer.pools import read_source_form


@pytest.mark.parametrize("form, body", [
    ({"method": "web_service", "url": " https://l.example/issue ", "secret": "", "text": "x"},
     {"method": "web_service", "url": "https://l.example/issue"}),
    ({"method": "web_service", "url": "https://l.example", "secret": "whsec_abc"},
     {"method": "web_service", "url": "https://l.example", "secret": "whsec_abc"}),
    ({"method": "email", "text": " Thanks! \n", "url": "https://x"}, {"method": "email", "text": "Thanks!"}),
    ({"method": "email"}, {"method": "email", "text": ""}),     # the API names what is missing
    ({"method": "manual", "prefix": "X"}, {"method": "manual"}),
    ({"method": "generated", "revoke_on_refund": "on"},
     {"method": "generated", "activation_limit": None, "valid_days": None, "revoke_on_refund": True}),
    ({"method": "generated", "prefix": "ab1", "activation_limit": "5", "valid_days": "36500"},
     {"method": "generated", "prefix": "AB1", "activation_limit": 5, "valid_days": 36500, "revoke_on_refund": False}),
])
def test_each_method_sends_its_own_fields(form, body):
    assert read_source_form(form) == body


@pytest.mark.parametrize("form, field", [
    ({}, "method"), ({"method": "pool"}, "method"), ({"method": "WEB_SERVICE"}, "method"),
    ({"method": "generated", "activation_limit": "0"}, "activation_limit"),
    ({"method": "generated", "activation_limit": "1000001"}, "activation_limit"),
    ({"method": "generated", "activation_limit": "-1"}, "activation_limit"),
    ({"method": "generated", "valid_days": "1.5"}, "valid_days"),
])
def test_a_wrong_choice_or_number_is_named(form, field):
    with pytest.raises(Rejected) as caught:
        read_source_form(form)
    assert field in caught.value.errors
