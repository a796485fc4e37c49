import random

import pytest

from tillkey.orders.domain.pricing import Discount, LineInput, percent_of, price_cart, split_proportionally


def line(key, price, qty=1, product=None):
    return LineInput(key, product or f"prod_{key}", price, qty)


def test_no_discount_sums_lines():
    cart = price_cart([line("a", 4900, 2), line("b", 1000)])
    assert [ln.subtotal for ln in cart.lines] == [9800, 1000]
    assert (cart.subtotal, cart.discount, cart.total) == (10800, 0, 10800)


@pytest.mark.parametrize("amount,percent,expected", [
    (999, 10, 100),    # 99.9 → 100
    (995, 10, 100),    # 99.5 → 100 (half up)
    (994, 10, 99),     # 99.4 → 99
    (5, 10, 1),        # 0.5 → 1
    (4, 10, 0),        # 0.4 → 0
    (4900, 100, 4900),
    (0, 50, 0),
])
def test_percent_rounds_half_up(amount, percent, expected):
    assert percent_of(amount, percent) == expected


def test_percent_is_rounded_per_line_not_per_cart():
    # Three lines of 0.05 at 50%: each line 0.025 → 0.03; a per-cart rounding would give 0.08.
    cart = price_cart([line("a", 5), line("b", 5), line("c", 5)], Discount(percent_off=50))
    assert [ln.discount for ln in cart.lines] == [3, 3, 3]
    assert cart.discount == 9 and cart.total == 6


def test_percent_in_jpy_rounds_to_whole_yen():
    cart = price_cart([line("a", 1999, 3)], Discount(percent_off=15))   # 5997 * .15 = 899.55
    assert cart.lines[0].discount == 900
    assert cart.total == 5097


def test_percent_only_on_eligible_products():
    cart = price_cart([line("a", 1000, product="prod_x"), line("b", 1000, product="prod_y")],
                      Discount(percent_off=20, product_ids=frozenset({"prod_y"})))
    assert [ln.discount for ln in cart.lines] == [0, 200]


def test_amount_off_is_split_so_lines_add_up():
    cart = price_cart([line("a", 1000), line("b", 1000), line("c", 1000)], Discount(amount_off=100))
    assert cart.discount == 100
    assert sorted(ln.discount for ln in cart.lines) == [33, 33, 34]
    assert sum(ln.total for ln in cart.lines) == cart.total == 2900


def test_amount_off_follows_line_weights():
    cart = price_cart([line("a", 3000), line("b", 1000)], Discount(amount_off=400))
    assert [ln.discount for ln in cart.lines] == [300, 100]


def test_amount_off_is_capped_at_the_eligible_subtotal():
    cart = price_cart([line("a", 300, product="prod_x"), line("b", 5000, product="prod_y")],
                      Discount(amount_off=1000, product_ids=frozenset({"prod_x"})))
    assert [ln.discount for ln in cart.lines] == [300, 0]
    assert cart.total == 5000


def test_amount_off_larger_than_cart_gives_zero_not_negative():
    cart = price_cart([line("a", 500, 2)], Discount(amount_off=5000))
    assert cart.discount == 1000 and cart.total == 0
    assert all(ln.total >= 0 for ln in cart.lines)


def test_amount_off_in_jpy():
    cart = price_cart([line("a", 1000), line("b", 2000), line("c", 4000)], Discount(amount_off=1000))
    assert sum(ln.discount for ln in cart.lines) == 1000
    assert [ln.discount for ln in cart.lines] == [143, 286, 571]   # 142.86, 285.71, 571.43


def test_amount_off_with_no_eligible_line_is_zero():
    cart = price_cart([line("a", 500)], Discount(amount_off=100, product_ids=frozenset({"prod_other"})))
    assert cart.discount == 0


def test_free_lines_take_no_amount_off():
    cart = price_cart([line("a", 0), line("b", 1000)], Discount(amount_off=100))
    assert [ln.discount for ln in cart.lines] == [0, 100]


def test_split_ties_go_to_earlier_parts():
    assert split_proportionally(2, [1, 1, 1]) == [1, 1, 0]


def test_split_never_exceeds_a_weight_and_always_adds_up():
    rng = random.Random(7)
    for _ in range(2000):
        weights = [rng.randint(0, 10_000) for _ in range(rng.randint(1, 6))]
        amount = rng.randint(0, sum(weights))
        parts = split_proportionally(amount, weights)
        assert sum(parts) == (amount if sum(weights) else 0)
        assert all(0 <= p <= w for p, w in zip(parts, weights, strict=True))
