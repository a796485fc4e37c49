from datetime import UTC, datetime, timedelta

import pytest

from tillkey.orders.domain.carts import Cart
from tillkey.orders.domain.catalog import Product
from tillkey.orders.domain.coupons import Coupon, code_key
from tillkey.orders.domain.errors import Conflict, Invalid, NotFound
from tillkey.orders.domain.money import format_amount, is_currency
from tillkey.orders.domain.orders import Customer, Order

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def product(pid="prod_a", merchant="mer_1", prices=None, active=True, name="Editor"):
    prices = prices or {"EUR": 4900, "JPY": 6000}
    return Product.create(pid, merchant, name, prices, next(iter(prices)), NOW, active=active)


def cart_with(*lines, currency="EUR"):
    cart = Cart.start("cart_1", lines[0][0] if lines else product(), currency, NOW)
    for i, (p, qty) in enumerate(lines):
        cart.add(p, qty, f"line_{i}", NOW)
    return cart


# -- money and products ----------------------------------------------------------------------------
def test_currency_table_knows_exponents():
    assert format_amount(4900, "USD") == "49.00 USD"
    assert format_amount(4900, "JPY") == "4900 JPY"
    assert format_amount(1234, "KWD") == "1.234 KWD"
    assert is_currency("EUR") and not is_currency("EURO") and not is_currency("eur")


def test_product_default_currency_must_be_priced():
    with pytest.raises(Invalid) as exc:
        Product.create("prod_a", "mer_1", "X", {"EUR": 100}, "USD", NOW)
    assert exc.value.field == "default_currency"


@pytest.mark.parametrize("prices,field", [({}, "prices"), ({"XXY": 1}, "prices.XXY"), ({"EUR": -1}, "prices.EUR"),
                                          ({"EUR": 1.5}, "prices.EUR")])
def test_product_prices_are_checked(prices, field):
    with pytest.raises(Invalid) as exc:
        Product.create("prod_a", "mer_1", "X", prices, "EUR", NOW)
    assert exc.value.field == field


def test_product_update_is_all_or_nothing():
    p = product()
    with pytest.raises(Invalid):
        p.update(NOW, name="New", prices={"USD": 100})     # drops the default currency EUR
    assert p.name == "Editor" and p.prices == {"EUR": 4900, "JPY": 6000}
    assert p.update(NOW + timedelta(1), name="New", prices={"USD": 100}, default_currency="USD")
    assert (p.name, p.default_currency, p.updated_at) == ("New", "USD", NOW + timedelta(1))
    assert not p.update(NOW, name="New")


# -- coupons -----------------------------------------------------------------------------------------
def coupon(**kw):
    kw.setdefault("percent_off", 10)
    return Coupon.create("mer_1", kw.pop("code", "Spring"), NOW, **kw)


def test_codes_ignore_case():
    assert code_key(" SpRiNg ") == "spring" and coupon().code_key == "spring" and coupon().code == "Spring"


@pytest.mark.parametrize("kw,field", [
    ({"percent_off": None}, "percent_off"),                           # neither
    ({"percent_off": 10, "amount_off": {"EUR": 5}}, "percent_off"),     # both
    ({"percent_off": 0}, "percent_off"), ({"percent_off": 101}, "percent_off"),
    ({"percent_off": None, "amount_off": {}}, "amount_off"),
    ({"percent_off": None, "amount_off": {"EUR": 0}}, "amount_off.EUR"),
    ({"percent_off": None, "amount_off": {"ABC": 5}}, "amount_off.ABC"),
    ({"expires_at": NOW}, "expires_at"),
    ({"max_redemptions": 0}, "max_redemptions"),
    ({"code": "no spaces"}, "code"),
    ({"product_ids": []}, "product_ids"),
])
def test_coupon_rules(kw, field):
    with pytest.raises(Invalid) as exc:
        coupon(**kw)
    assert exc.value.field == field


def test_coupon_problems():
    c = coupon(expires_at=NOW + timedelta(days=1), max_redemptions=1)
    assert c.problem(NOW, "EUR") is None
    assert c.problem(NOW + timedelta(days=1), "EUR")[0] == "coupon_expired"
    c.redemptions = 1
    assert c.problem(NOW, "EUR")[0] == "coupon_exhausted"
    c.redemptions = 0
    c.set_active(False, NOW)
    assert c.problem(NOW, "EUR")[0] == "coupon_inactive"
    fixed = coupon(percent_off=None, amount_off={"EUR": 500})
    assert fixed.problem(NOW, "JPY")[0] == "coupon_currency"
    with pytest.raises(Invalid, match="cannot be used in JPY"):
        fixed.check_usable(NOW, "JPY")


# -- carts -------------------------------------------------------------------------------------------
def test_add_raises_quantity_of_existing_line():
    p = product()
    cart = cart_with((p, 2))
    cart.add(p, 3, "line_new", NOW)
    assert [(ln.line_id, ln.quantity) for ln in cart.lines] == [("line_0", 5)]


def test_quantity_limits():
    p = product()
    cart = cart_with((p, 999))
    with pytest.raises(Invalid):
        cart.add(p, 2, "line_x", NOW)
    with pytest.raises(Invalid):
        cart.add(product("prod_b"), 0, "line_x", NOW)
    with pytest.raises(Invalid):
        cart.set_quantity("line_0", 1001, NOW)
    assert cart.lines[0].quantity == 999


def test_one_merchant_per_cart_and_only_sellable_products():
    cart = cart_with((product(), 1))
    with pytest.raises(Invalid) as exc:
        cart.add(product("prod_b", merchant="mer_2"), 1, "line_x", NOW)
    assert exc.value.code == "merchant_mismatch"
    with pytest.raises(Invalid) as exc:
        cart.add(product("prod_c", active=False), 1, "line_x", NOW)
    assert exc.value.code == "product_inactive"
    with pytest.raises(Invalid) as exc:
        cart.add(product("prod_d", prices={"USD": 1}, name="Usd only"), 1, "line_x", NOW)
    assert exc.value.code == "currency_unavailable"
    assert len(cart.lines) == 1


def test_link_quantity_sets_the_line():
    p = product()
    cart = cart_with((p, 1))
    cart.set_product_quantity(p, 3, "line_x", NOW)
    cart.set_product_quantity(p, 3, "line_y", NOW)
    assert [(ln.line_id, ln.quantity) for ln in cart.lines] == [("line_0", 3)]


def test_zero_removes_a_line_and_unknown_line_is_not_found():
    cart = cart_with((product(), 1), (product("prod_b"), 1))
    cart.set_quantity("line_0", 0, NOW)
    assert [ln.product_id for ln in cart.lines] == ["prod_b"]
    with pytest.raises(NotFound):
        cart.set_quantity("line_0", 1, NOW)


def test_currency_change_reprices_or_refuses():
    a, b = product(), product("prod_b", prices={"EUR": 100})
    cart = cart_with((a, 1), (b, 1))
    with pytest.raises(Invalid) as exc:
        cart.change_currency("JPY", {"prod_a": a, "prod_b": b}, NOW)
    assert exc.value.code == "currency_unavailable" and cart.currency == "EUR"
    cart.set_quantity("line_1", 0, NOW)
    cart.change_currency("JPY", {"prod_a": a}, NOW)
    assert cart.quote({"prod_a": a}, None, NOW).priced.total == 6000


def test_checked_out_cart_is_locked():
    p = product()
    cart = cart_with((p, 1))
    cart.mark_checked_out("ord_1", NOW)
    for change in (lambda: cart.add(p, 1, "l", NOW), lambda: cart.set_quantity("line_0", 2, NOW),
                   lambda: cart.change_currency("JPY", {}, NOW), lambda: cart.apply_coupon(None, NOW),
                   lambda: cart.clear(NOW), lambda: cart.mark_checked_out("ord_2", NOW)):
        with pytest.raises(Conflict):
            change()
    assert cart.order_id == "ord_1" and cart.lines[0].quantity == 1


def test_coupon_of_another_merchant_is_unknown():
    cart = cart_with((product(), 1))
    with pytest.raises(Invalid) as exc:
        cart.apply_coupon(Coupon.create("mer_2", "X", NOW, percent_off=5), NOW)
    assert exc.value.code == "coupon_unknown" and cart.coupon_code is None


def test_quote_shows_problems_and_leaves_them_out_of_totals():
    a, b = product(), product("prod_b", name="Old")
    cart = cart_with((a, 1), (b, 2))
    c = coupon(percent_off=50)
    cart.apply_coupon(c, NOW)
    b.update(NOW, active=False)
    quote = cart.quote({"prod_a": a, "prod_b": b}, c, NOW)
    assert [q.problem for q in quote.lines] == [None, "This product is no longer sold."]
    assert (quote.priced.subtotal, quote.priced.discount) == (4900, 2450)
    c.set_active(False, NOW)
    later = cart.quote({"prod_a": a, "prod_b": b}, c, NOW)
    assert later.coupon_problem and later.priced.discount == 0


# -- orders ------------------------------------------------------------------------------------------
def placed(**kw):
    a = product()
    cart = cart_with((a, 2))
    cart.custom = {"ref": "A-1"}
    quote = cart.quote({"prod_a": a}, None, NOW)
    return Order.place("ord_1", cart, quote, Customer("a@example.com", "Ada", "L", "GB"), "card", ["line_o1"], NOW)


def test_order_snapshots_the_cart():
    order = placed()
    assert (order.status, order.delivery_status, order.total, order.custom) == ("not_paid", "not_delivered", 9800,
                                                                               {"ref": "A-1"})
    assert [(ln.line_id, ln.unit_price, ln.quantity, ln.delivery_status) for ln in order.lines] == [
        ("line_o1", 4900, 2, "pending")]


def test_empty_or_unbuyable_cart_gives_no_order():
    a = product()
    cart = cart_with((a, 1))
    cart.set_quantity("line_0", 0, NOW)
    with pytest.raises(Invalid, match="empty"):
        Order.place("ord_1", cart, cart.quote({}, None, NOW), Customer("a@b.co", "A", "B", "DE"), "card", [], NOW)
    cart.add(a, 1, "line_1", NOW)
    a.update(NOW, active=False)
    with pytest.raises(Invalid, match="no longer sold"):
        Order.place("ord_1", cart, cart.quote({"prod_a": a}, None, NOW), Customer("a@b.co", "A", "B", "DE"),
                    "card", ["line_x"], NOW)


def test_transitions_are_guarded():
    order = placed()
    assert order.mark_paid(NOW) and order.paid_at == NOW
    assert not order.mark_paid(NOW)                  # a duplicate: no effect
    for move in (order.cancel, order.delete_unpaid):
        with pytest.raises(Conflict):
            move(NOW)
    assert order.mark_refunded(NOW) and order.status == "refunded"
    unpaid = placed()
    assert unpaid.cancel(NOW)
    with pytest.raises(Conflict):
        unpaid.mark_paid(NOW)


def test_deleting_an_unpaid_order_erases_personal_data():
    order = placed()
    order.customer = Customer("a@example.com", "Ada", "L", "GB", "Co", "GB1", "en")
    order.delete_unpaid(NOW)
    assert order.customer == Customer(None, None, None, "GB", None, None, "en")
    assert order.total == 9800 and not order.visible_to_customer


def test_custom_keys_are_limited_across_links():
    cart = cart_with((product(), 1))
    cart.set_details(NOW, custom={f"k{i}": "v" for i in range(15)})
    with pytest.raises(Invalid):
        cart.set_details(NOW, custom={f"x{i}": "v" for i in range(6)})
    assert len(cart.custom) == 15
    cart.set_details(NOW, custom={"k1": "new"}, email="a@example.com")
    assert cart.custom["k1"] == "new" and cart.email == "a@example.com"
