import pytest
from standardwebhooks import Webhook

from tillkey.contracts.signing import SignatureError, headers, new_secret, verify


def test_our_signature_verifies_with_the_standardwebhooks_library():
    secret, body = new_secret(), '{"a":1}'
    h = headers([secret], "evt_1", 1_800_000_000, body)
    assert verify(secret, h, body, now=1_800_000_000) == "evt_1"


def test_a_fresh_signature_verifies_with_the_library_and_during_rotation():
    import time

    old, new, body = new_secret(), new_secret(), '{"type":"order.created"}'
    h = headers([new, old], "evt_2", int(time.time()), body)
    assert Webhook(old).verify(body, h) == {"type": "order.created"}
    assert Webhook(new).verify(body, h) == {"type": "order.created"}


@pytest.mark.parametrize("mutate", [
    lambda h, b: ({**h, "webhook-signature": "v1,AAAA"}, b),
    lambda h, b: (h, b + " "),
    lambda h, b: ({**h, "webhook-timestamp": "1"}, b),
    lambda h, b: ({k: v for k, v in h.items() if k != "webhook-id"}, b),
])
def test_tampering_is_refused(mutate):
    import time

    secret, body = new_secret(), '{"x":1}'
    h, b = mutate(headers([secret], "evt_3", int(time.time()), body), body)
    with pytest.raises(SignatureError):
        verify(secret, h, b)
