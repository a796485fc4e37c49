"""Use cases over the in-memory unit of work: rules, events, access."""
from datetime import timedelta

import pytest

from tillkey.orders.domain.errors import Conflict, Forbidden, Gone, Invalid, NotFound
from tillkey.orders.service_layer import commands as c
from tillkey.platform.credentials import verify_api_key, verify_order_token


@pytest.fixture
def shop(svc):
    merchant = svc(c.RegisterMerchant("Acme", "billing@acme.example"))["merchant_id"]
    editor = svc(c.CreateProduct(merchant, "Editor", {"EUR": 4900, "JPY": 5000}, "EUR"))["product_id"]
    svc.clock.advance(seconds=1)
    plugin = svc(c.CreateProduct(merchant, "Plugin", {"EUR": 1000}, "EUR"))["product_id"]
    return merchant, editor, plugin


CUSTOMER = c.CustomerInput("ada@example.com", "Ada", "Lovelace", "GB", locale="en")


def checkout(svc, cart_id, **kw):
    args = {"terms_accepted": True, "personal_data_accepted": True, **kw}
    return svc(c.Checkout(cart_id, CUSTOMER, args.pop("payment_method", "card"), **args))


def test_register_merchant_emits_and_gives_a_working_key(svc):
    result = svc(c.RegisterMerchant("Acme", "billing@acme.example"))
    assert verify_api_key("secret", result["api_key"]) == result["merchant_id"]
    assert [(e.type, e.data["email"]) for e in svc.uow.events] == [("merchant.registered", "billing@acme.example")]


def test_products_emit_created_and_updated_only_on_change(svc, shop):
    merchant, editor, _ = shop
    svc(c.UpdateProduct(merchant, editor, name="Editor"))          # no change
    svc(c.UpdateProduct(merchant, editor, active=False))
    types = [e.type for e in svc.uow.events]
    assert types == ["merchant.registered", "product.created", "product.created", "product.updated"]
    assert svc.uow.events[-1].data["active"] is False


def test_another_merchants_product_is_not_found(svc, shop):
    _, editor, _ = shop
    with pytest.raises(NotFound):
        svc(c.GetProduct("mer_other", editor))
    with pytest.raises(NotFound):
        svc(c.UpdateProduct("mer_other", editor, name="Mine"))


def test_product_list_is_newest_first(svc, shop):
    merchant, editor, plugin = shop
    page = svc(c.ListProducts(merchant, limit=1))
    assert [p["product_id"] for p in page["data"]] == [plugin] and page["next_cursor"]
    assert [p["product_id"] for p in svc(c.ListProducts(merchant, 1, page["next_cursor"]))["data"]] == [editor]


def test_coupon_codes_unique_ignoring_case_and_products_must_be_own(svc, shop):
    merchant, editor, _ = shop
    svc(c.CreateCoupon(merchant, "Spring", percent_off=10))
    with pytest.raises(Conflict):
        svc(c.CreateCoupon(merchant, "SPRING", percent_off=20))
    with pytest.raises(Invalid) as exc:
        svc(c.CreateCoupon(merchant, "X", percent_off=5, product_ids=[editor, "prod_nope"]))
    assert exc.value.field == "product_ids.1"
    other = svc(c.CreateProduct("mer_2", "Theirs", {"EUR": 1}, "EUR"))["product_id"]
    with pytest.raises(Invalid):
        svc(c.CreateCoupon(merchant, "Y", percent_off=5, product_ids=[other]))
    assert svc(c.UpdateCoupon(merchant, "sPrInG", active=False))["active"] is False
    with pytest.raises(NotFound):
        svc(c.UpdateCoupon("mer_2", "spring", active=True))


def test_cart_math_and_line_changes(svc, shop):
    merchant, editor, plugin = shop
    svc(c.CreateCoupon(merchant, "TEN", amount_off={"EUR": 1000}))
    cart = svc(c.CreateCart([c.CartLineInput(editor, 1), c.CartLineInput(plugin, 2)], coupon="ten"))
    assert (cart["subtotal"], cart["discount"], cart["total"], cart["coupon"]) == (6900, 1000, 5900, "TEN")
    assert sum(line["discount"] for line in cart["lines"]) == 1000
    cart = svc(c.AddCartLine(cart["cart_id"], plugin, 1))
    assert [ln["quantity"] for ln in cart["lines"]] == [1, 3]
    cart = svc(c.UpdateCartLine(cart["cart_id"], cart["lines"][1]["line_id"], 0))
    assert [ln["product_id"] for ln in cart["lines"]] == [editor]


def test_cart_refuses_other_merchant_and_unknown_products(svc, shop):
    _, editor, _ = shop
    other = svc(c.CreateProduct("mer_2", "Theirs", {"EUR": 1}, "EUR"))["product_id"]
    with pytest.raises(Invalid) as exc:
        svc(c.CreateCart([c.CartLineInput(editor, 1), c.CartLineInput(other, 1)]))
    assert exc.value.field == "lines.1.product_id"
    with pytest.raises(Invalid) as exc:
        svc(c.CreateCart([c.CartLineInput("prod_nope", 1)]))
    assert exc.value.field == "lines.0.product_id"
    assert svc.uow.carts.items == {}


def test_currency_change_keeps_amount_coupons_honest(svc, shop):
    merchant, editor, _ = shop
    svc(c.CreateCoupon(merchant, "FIVE", amount_off={"EUR": 500}))
    cart = svc(c.CreateCart([c.CartLineInput(editor, 1)], coupon="FIVE"))
    with pytest.raises(Invalid) as exc:
        svc(c.UpdateCart(cart["cart_id"], currency="JPY"))
    assert exc.value.code == "coupon_currency"
    cart = svc(c.UpdateCart(cart["cart_id"], currency="JPY", coupon=None))
    assert (cart["currency"], cart["total"], cart["coupon"]) == ("JPY", 5000, None)


def test_expired_coupon_is_refused_with_a_clear_message(svc, shop):
    merchant, editor, _ = shop
    svc(c.CreateCoupon(merchant, "SOON", percent_off=10, expires_at=svc.clock.now() + timedelta(hours=1)))
    cart = svc(c.CreateCart([c.CartLineInput(editor, 1)], coupon="soon"))
    svc.clock.advance(hours=2)
    assert svc(c.GetCart(cart["cart_id"]))["coupon_problem"] == "The coupon SOON has expired."
    with pytest.raises(Invalid, match="expired"):
        checkout(svc, cart["cart_id"])
    with pytest.raises(Invalid, match="expired"):
        svc(c.CreateCart([c.CartLineInput(editor, 1)], coupon="SOON"))


def test_checkout_creates_the_order_and_one_event(svc, shop):
    merchant, editor, _ = shop
    svc(c.CreateCoupon(merchant, "HALF", percent_off=50))
    cart = svc(c.CreateCart([c.CartLineInput(editor, 3)], coupon="HALF", custom={"ref": "A-1"}))
    before = len(svc.uow.events)
    result = checkout(svc, cart["cart_id"], payment_method="bank_transfer")
    order = result["order"]
    assert verify_order_token("secret", result["order_id"], result["order_token"])
    assert result["payment_url"] == f"https://pay.test/pay/{result['order_id']}?token={result['order_token']}"
    assert (order["status"], order["delivery_status"], order["total"], order["discount"]) == (
        "not_paid", "not_delivered", 7350, 7350)
    assert order["custom"] == {"ref": "A-1"} and order["payment_method"] == "bank_transfer"
    events = svc.uow.events[before:]
    assert [e.type for e in events] == ["order.created"] and events[0].data == order
    assert svc.uow.coupons.get(merchant, "half").redemptions == 1
    with pytest.raises(Conflict):
        checkout(svc, cart["cart_id"])
    with pytest.raises(Conflict):
        svc(c.AddCartLine(cart["cart_id"], editor, 1))
    assert len(svc.uow.orders.items) == 1


@pytest.mark.parametrize("kw,field", [({"terms_accepted": False}, "consents.terms"),
                                      ({"personal_data_accepted": False}, "consents.personal_data"),
                                      ({"payment_method": "bitcoin"}, "payment_method")])
def test_checkout_needs_consents_and_a_known_method(svc, shop, kw, field):
    _, editor, _ = shop
    cart = svc(c.CreateCart([c.CartLineInput(editor, 1)]))
    with pytest.raises(Invalid) as exc:
        checkout(svc, cart["cart_id"], **kw)
    assert exc.value.field == field
    assert svc.uow.orders.items == {} and svc.uow.carts.get(cart["cart_id"]).is_open


def test_max_redemptions_counts_at_checkout(svc, shop):
    merchant, editor, _ = shop
    svc(c.CreateCoupon(merchant, "ONCE", percent_off=10, max_redemptions=1))
    first = svc(c.CreateCart([c.CartLineInput(editor, 1)], coupon="ONCE"))
    second = svc(c.CreateCart([c.CartLineInput(editor, 1)], coupon="ONCE"))
    checkout(svc, first["cart_id"])
    with pytest.raises(Invalid, match="used up"):
        checkout(svc, second["cart_id"])
    assert len(svc.uow.orders.items) == 1


def test_checkout_refuses_a_withdrawn_product(svc, shop):
    merchant, editor, _ = shop
    cart = svc(c.CreateCart([c.CartLineInput(editor, 1)]))
    svc(c.UpdateProduct(merchant, editor, active=False))
    with pytest.raises(Invalid, match="no longer sold"):
        checkout(svc, cart["cart_id"])


def test_checkout_link_reuses_the_open_cart_and_sets_quantity(svc, shop):
    merchant, editor, plugin = shop
    first = svc(c.OpenCheckoutLink(editor, quantity=2, custom={"ref": "1"}))
    cookies = {merchant: first["cart_id"]}
    again = svc(c.OpenCheckoutLink(editor, cookies, quantity=2))
    svc(c.OpenCheckoutLink(plugin, cookies))
    assert again["cart_id"] == first["cart_id"]
    cart = svc(c.GetCart(first["cart_id"]))
    assert [(ln["product_id"], ln["quantity"]) for ln in cart["lines"]] == [(editor, 2), (plugin, 1)]
    assert cart["custom"] == {"ref": "1"}
    svc(c.OpenCheckoutLink(plugin, cookies, clear=True))
    assert [ln["product_id"] for ln in svc(c.GetCart(first["cart_id"]))["lines"]] == [plugin]


def test_checkout_link_never_reuses_a_checked_out_cart(svc, shop):
    merchant, editor, _ = shop
    first = svc(c.OpenCheckoutLink(editor))
    checkout(svc, first["cart_id"])
    second = svc(c.OpenCheckoutLink(editor, {merchant: first["cart_id"]}))
    assert second["cart_id"] != first["cart_id"]


def test_checkout_link_unknown_inactive_and_currency(svc, shop):
    merchant, editor, plugin = shop
    with pytest.raises(NotFound):
        svc(c.OpenCheckoutLink("prod_nope"))
    first = svc(c.OpenCheckoutLink(editor, currency="JPY"))
    assert svc(c.GetCart(first["cart_id"]))["total"] == 5000
    with pytest.raises(Invalid):      # the plugin has no JPY price
        svc(c.OpenCheckoutLink(plugin, {merchant: first["cart_id"]}))
    svc(c.UpdateProduct(merchant, plugin, active=False))
    with pytest.raises(Gone):
        svc(c.OpenCheckoutLink(plugin))


def test_order_visibility(svc, shop):
    merchant, editor, _ = shop
    order_id = checkout(svc, svc(c.CreateCart([c.CartLineInput(editor, 1)]))["cart_id"])["order_id"]
    assert svc(c.GetOrder(order_id, c.Viewer("merchant", merchant)))["order_id"] == order_id
    assert svc(c.GetOrder(order_id, c.Viewer("admin")))["order_id"] == order_id
    assert svc(c.GetOrder(order_id, c.Viewer("customer", order_id=order_id)))["order_id"] == order_id
    with pytest.raises(NotFound):
        svc(c.GetOrder(order_id, c.Viewer("merchant", "mer_other")))
    svc.uow.orders.get(order_id).delete_unpaid(svc.clock.now())
    with pytest.raises(NotFound):
        svc(c.GetOrder(order_id, c.Viewer("customer", order_id=order_id)))
    assert svc(c.GetOrder(order_id, c.Viewer("admin")))["customer"]["email"] is None


def test_order_list_filters(svc, shop):
    merchant, editor, _ = shop
    for _ in range(2):
        svc.clock.advance(seconds=1)
        checkout(svc, svc(c.CreateCart([c.CartLineInput(editor, 1)]))["cart_id"])
    own = c.Viewer("merchant", merchant)
    assert len(svc(c.ListOrders(own))["data"]) == 2
    assert svc(c.ListOrders(own, status="paid"))["data"] == []
    assert svc(c.ListOrders(c.Viewer("merchant", "mer_other")))["data"] == []


def test_order_list_by_email_and_time_and_for_support(svc, shop):
    merchant, editor, _ = shop
    first = checkout(svc, svc(c.CreateCart([c.CartLineInput(editor, 1)]))["cart_id"])["order"]
    svc.clock.advance(days=1)
    second = checkout(svc, svc(c.CreateCart([c.CartLineInput(editor, 1)]))["cart_id"])["order"]
    own, email = c.Viewer("merchant", merchant), CUSTOMER.email.upper()
    ids = lambda cmd: [o["order_id"] for o in svc(cmd)["data"]]  # noqa: E731
    assert ids(c.ListOrders(own, email=email)) == [second["order_id"], first["order_id"]]
    assert ids(c.ListOrders(own, email="someone@else.example")) == []
    day_two = svc.clock.now() - timedelta(hours=1)
    assert ids(c.ListOrders(own, created_from=day_two)) == [second["order_id"]]
    assert ids(c.ListOrders(own, email=email, created_before=day_two)) == [first["order_id"]]
    # Support finds the customer's orders across merchants; another merchant finds none of them.
    assert ids(c.ListOrders(c.Viewer("admin"), email=email)) == [second["order_id"], first["order_id"]]
    assert ids(c.ListOrders(c.Viewer("merchant", "mer_other"), email=email)) == []
    with pytest.raises(Forbidden):
        svc(c.ListOrders(c.Viewer("customer", order_id=first["order_id"])))
    with pytest.raises(Invalid) as refused:        # an empty range: nothing could match
        svc(c.ListOrders(own, created_from=day_two, created_before=day_two))
    assert refused.value.field == "created_to"
