"""The one rule of who may see an order, as every service applies it."""
from dataclasses import dataclass

import pytest

from tillkey.platform.visibility import sees_order


@dataclass(frozen=True)
class Who:
    kind: str
    merchant_id: str | None = None
    order_id: str | None = None


@pytest.mark.parametrize(("viewer", "hidden", "sees"), [
    (Who("admin"), True, True),
    (Who("merchant", "mer_own"), False, True),
    (Who("merchant", "mer_own"), True, True),          # a merchant still sees its deleted order
    (Who("merchant", "mer_other"), False, False),
    (Who("customer", order_id="ord_1"), False, True),
    (Who("customer", order_id="ord_1"), True, False),  # deleted: the token no longer opens it
    (Who("customer", order_id="ord_2"), False, False),
    (Who("stranger"), False, False),
])
def test_who_sees_an_order(viewer, hidden, sees):
    assert sees_order(viewer, "ord_1", "mer_own", hidden_from_customer=hidden) is sees
