"""Use cases over the in-memory unit of work: rules, events, access."""
from datetime import timedelta

import pytest

from tillkey.orders.domain.errors import Conflict, Forbidden, Gone, Invalid, NotFound
from tillkey.orders.service_layer.access import Viewer
from tillkey.orders.service_layer.carts import (
    AddCartLine,
    CartLineInput,
    CreateCart,
    GetCart,
    OpenCheckoutLink,
    UpdateCart,
    UpdateCartLine,
)
from tillkey.orders.service_layer.catalog import (
    CreateCoupon,
    CreateProduct,
    GetProduct,
    ListProducts,
    RegisterMerchant,
    UpdateCoupon,
    UpdateProduct,
)
from tillkey.orders.service_layer.checkout import Checkout, CustomerInput, GetOrder, ListOrders
from tillkey.platform.credentials import verify_api_key, verify_order_token


@pytest.fixture
def shop(svc):
    merchant = svc(RegisterMerchant("Acme", "billing@acme.example"))["merchant_id"]
    editor = svc(CreateProduct(merchant, "Editor", {"EUR": 4900, "JPY": 5000}, "EUR"))["product_id"]
    svc.clock.advance(seconds=1)
    plugin = svc(CreateProduct(merchant, "Plugin", {"EUR": 1000}, "EUR"))["product_id"]
    return merchant, editor, plugin


CUSTOMER = CustomerInput("ada@example.com", "Ada", "Lovelace", "GB", locale="en")


def checkout(svc, cart_id, **kw):
    args = {"terms_accepted": True, "personal_data_accepted": True, **kw}
    return svc(Checkout(cart_id, CUSTOMER, args.pop("payment_method", "card"), **args))


def test_register_merchant_emits_and_gives_a_working_key(svc):
    result = svc(RegisterMerchant("Acme", "billing@acme.example"))
    assert verify_api_key("secret", result["api_key"]) == result["merchant_id"]
    assert [(e.type, e.data["email"]) for e in svc.uow.events] == [("merchant.registered", "billing@acme.example")]


def test_products_emit_created_and_updated_only_on_change(svc, shop):
    merchant, editor, _ = shop
    svc(UpdateProduct(merchant, editor, name="Editor"))          # no change
    svc(UpdateProduct(merchant, editor, active=False))
    types = [e.type for e in svc.uow.events]
    assert types == ["merchant.registered", "product.created", "product.created", "product.updated"]
    assert svc.uow.events[-1].data["active"] is False


def test_another_merchants_product_is_not_found(svc, shop):
    _, editor, _ = shop
    with pytest.raises(NotFound):
        svc(GetProduct("mer_other", editor))
    with pytest.raises(NotFound):
        svc(UpdateProduct("mer_other", editor, name="Mine"))


def test_product_list_is_newest_first(svc, shop):
    merchant, editor, plugin = shop
    page = svc(ListProducts(merchant, limit=1))
    assert [p["product_id"] for p in page["data"]] == [plugin] and page["next_cursor"]
    assert [p["product_id"] for p in svc(ListProducts(merchant, 1, page["next_cursor"]))["data"]] == [editor]


def test_coupon_codes_unique_ignoring_case_and_products_must_be_own(svc, shop):
    merchant, editor, _ = shop
    svc(CreateCoupon(merchant, "Spring", percent_off=10))
    with pytest.raises(Conflict):
        svc(CreateCoupon(merchant, "SPRING", percent_off=20))
    with pytest.raises(Invalid) as exc:
        svc(CreateCoupon(merchant, "X", percent_off=5, product_ids=[editor, "prod_nope"]))
    assert exc.value.field == "product_ids.1"
    other = svc(CreateProduct("mer_2", "Theirs", {"EUR": 1}, "EUR"))["product_id"]
    with pytest.raises(Invalid):
        svc(CreateCoupon(merchant, "Y", percent_off=5, product_ids=[other]))
    assert svc(UpdateCoupon(merchant, "sPrInG", active=False))["active"] is False
    with pytest.raises(NotFound):
        svc(UpdateCoupon("mer_2", "spring", active=True))


def test_cart_math_and_line_changes(svc, shop):
    merchant, editor, plugin = shop
    svc(CreateCoupon(merchant, "TEN", amount_off={"EUR": 1000}))
    cart = svc(CreateCart([CartLineInput(editor, 1), CartLineInput(plugin, 2)], coupon="ten"))
    assert (cart["subtotal"], cart["discount"], cart["total"], cart["coupon"]) == (6900, 1000, 5900, "TEN")
    assert sum(line["discount"] for line in cart["lines"]) == 1000
    cart = svc(AddCartLine(cart["cart_id"], plugin, 1))
    assert [ln["quantity"] for ln in cart["lines"]] == [1, 3]
    cart = svc(UpdateCartLine(cart["cart_id"], cart["lines"][1]["line_id"], 0))
    assert [ln["product_id"] for ln in cart["lines"]] == [editor]


def test_cart_refuses_other_merchant_and_unknown_products(svc, shop):
    _, editor, _ = shop
    other = svc(CreateProduct("mer_2", "Theirs", {"EUR": 1}, "EUR"))["product_id"]
    with pytest.raises(Invalid) as exc:
        svc(CreateCart([CartLineInput(editor, 1), CartLineInput(other, 1)]))
    assert exc.value.field == "lines.1.product_id"
    with pytest.raises(Invalid) as exc:
        svc(CreateCart([CartLineInput("prod_nope", 1)]))
    assert exc.value.field == "lines.0.product_id"
    assert svc.uow.carts.items == {}


def test_currency_change_keeps_amount_coupons_honest(svc, shop):
    merchant, editor, _ = shop
    svc(CreateCoupon(merchant, "FIVE", amount_off={"EUR": 500}))
    cart = svc(CreateCart([CartLineInput(editor, 1)], coupon="FIVE"))
    with pytest.raises(Invalid) as exc:
        svc(UpdateCart(cart["cart_id"], currency="JPY"))
    assert exc.value.code == "coupon_currency"
    cart = svc(UpdateCart(cart["cart_id"], currency="JPY", coupon=None))
    assert (cart["currency"], cart["total"], cart["coupon"]) == ("JPY", 5000, None)


def test_expired_coupon_is_refused_with_a_clear_message(svc, shop):
    merchant, editor, _ = shop
    svc(CreateCoupon(merchant, "SOON", percent_off=10, expires_at=svc.clock.now() + timedelta(hours=1)))
    cart = svc(CreateCart([CartLineInput(editor, 1)], coupon="soon"))
    svc.clock.advance(hours=2)
    assert svc(GetCart(cart["cart_id"]))["coupon_problem"] == "The coupon SOON has expired."
    with pytest.raises(Invalid, match="expired"):
        checkout(svc, cart["cart_id"])
    with pytest.raises(Invalid, match="expired"):
        svc(CreateCart([CartLineInput(editor, 1)], coupon="SOON"))


def test_checkout_creates_the_order_and_one_event(svc, shop):
    merchant, editor, _ = shop
    svc(CreateCoupon(merchant, "HALF", percent_off=50))
    cart = svc(CreateCart([CartLineInput(editor, 3)], coupon="HALF", custom={"ref": "A-1"}))
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
        svc(AddCartLine(cart["cart_id"], editor, 1))
    assert len(svc.uow.orders.items) == 1


@pytest.mark.parametrize("kw,field", [({"terms_accepted": False}, "consents.terms"),
                                      ({"personal_data_accepted": False}, "consents.personal_data"),
                                      ({"payment_method": "bitcoin"}, "payment_method")])
def test_checkout_needs_consents_and_a_known_method(svc, shop, kw, field):
    _, editor, _ = shop
    cart = svc(CreateCart([CartLineInput(editor, 1)]))
    with pytest.raises(Invalid) as exc:
        checkout(svc, cart["cart_id"], **kw)
    assert exc.value.field == field
    assert svc.uow.orders.items == {} and svc.uow.carts.get(cart["cart_id"]).is_open


def test_max_redemptions_counts_at_checkout(svc, shop):
    merchant, editor, _ = shop
    svc(CreateCoupon(merchant, "ONCE", percent_off=10, max_redemptions=1))
    first = svc(CreateCart([CartLineInput(editor, 1)], coupon="ONCE"))
    second = svc(CreateCart([CartLineInput(editor, 1)], coupon="ONCE"))
    checkout(svc, first["cart_id"])
    with pytest.raises(Invalid, match="used up"):
        checkout(svc, second["cart_id"])
    assert len(svc.uow.orders.items) == 1


def test_checkout_refuses_a_withdrawn_product(svc, shop):
    merchant, editor, _ = shop
    cart = svc(CreateCart([CartLineInput(editor, 1)]))
    svc(UpdateProduct(merchant, editor, active=False))
    with pytest.raises(Invalid, match="no longer sold"):
        checkout(svc, cart["cart_id"])


def test_checkout_link_reuses_the_open_cart_and_sets_quantity(svc, shop):
    merchant, editor, plugin = shop
    first = svc(OpenCheckoutLink(editor, quantity=2, custom={"ref": "1"}))
    cookies = {merchant: first["cart_id"]}
    again = svc(OpenCheckoutLink(editor, cookies, quantity=2))
    svc(OpenCheckoutLink(plugin, cookies))
    assert again["cart_id"] == first["cart_id"]
    cart = svc(GetCart(first["cart_id"]))
    assert [(ln["product_id"], ln["quantity"]) for ln in cart["lines"]] == [(editor, 2), (plugin, 1)]
    assert cart["custom"] == {"ref": "1"}
    svc(OpenCheckoutLink(plugin, cookies, clear=True))
    assert [ln["product_id"] for ln in svc(GetCart(first["cart_id"]))["lines"]] == [plugin]


def test_checkout_link_never_reuses_a_checked_out_cart(svc, shop):
    merchant, editor, _ = shop
    first = svc(OpenCheckoutLink(editor))
    checkout(svc, first["cart_id"])
    second = svc(OpenCheckoutLink(editor, {merchant: first["cart_id"]}))
    assert second["cart_id"] != first["cart_id"]


def test_checkout_link_unknown_inactive_and_currency(svc, shop):
    merchant, editor, plugin = shop
    with pytest.raises(NotFound):
        svc(OpenCheckoutLink("prod_nope"))
    first = svc(OpenCheckoutLink(editor, currency="JPY"))
    assert svc(GetCart(first["cart_id"]))["total"] == 5000
    with pytest.raises(Invalid):      # the plugin has no JPY price
        svc(OpenCheckoutLink(plugin, {merchant: first["cart_id"]}))
    svc(UpdateProduct(merchant, plugin, active=False))
    with pytest.raises(Gone):
        svc(OpenCheckoutLink(plugin))


def test_order_visibility(svc, shop):
    merchant, editor, _ = shop
    order_id = checkout(svc, svc(CreateCart([CartLineInput(editor, 1)]))["cart_id"])["order_id"]
    assert svc(GetOrder(order_id, Viewer("merchant", merchant)))["order_id"] == order_id
    assert svc(GetOrder(order_id, Viewer("admin")))["order_id"] == order_id
    assert svc(GetOrder(order_id, Viewer("customer", order_id=order_id)))["order_id"] == order_id
    with pytest.raises(NotFound):
        svc(GetOrder(order_id, Viewer("merchant", "mer_other")))
    svc.uow.orders.get(order_id).delete_unpaid(svc.clock.now())
    with pytest.raises(NotFound):
        svc(GetOrder(order_id, Viewer("customer", order_id=order_id)))
    assert svc(GetOrder(order_id, Viewer("admin")))["customer"]["email"] is None


def test_order_list_filters(svc, shop):
    merchant, editor, _ = shop
    for _ in range(2):
        svc.clock.advance(seconds=1)
        checkout(svc, svc(CreateCart([CartLineInput(editor, 1)]))["cart_id"])
    own = Viewer("merchant", merchant)
    assert len(svc(ListOrders(own))["data"]) == 2
    assert svc(ListOrders(own, status="paid"))["data"] == []
    assert svc(ListOrders(Viewer("merchant", "mer_other")))["data"] == []


def test_order_list_by_email_and_time_and_for_support(svc, shop):
    merchant, editor, _ = shop
    first = checkout(svc, svc(CreateCart([CartLineInput(editor, 1)]))["cart_id"])["order"]
    svc.clock.advance(days=1)
    second = checkout(svc, svc(CreateCart([CartLineInput(editor, 1)]))["cart_id"])["order"]
    own, email = Viewer("merchant", merchant), CUSTOMER.email.upper()
    ids = lambda cmd: [o["order_id"] for o in svc(cmd)["data"]]  # noqa: E731
    assert ids(ListOrders(own, email=email)) == [second["order_id"], first["order_id"]]
    assert ids(ListOrders(own, email="someone@else.example")) == []
    day_two = svc.clock.now() - timedelta(hours=1)
    assert ids(ListOrders(own, created_from=day_two)) == [second["order_id"]]
    assert ids(ListOrders(own, email=email, created_before=day_two)) == [first["order_id"]]
    # Support finds the customer's orders across merchants; another merchant finds none of them.
    assert ids(ListOrders(Viewer("admin"), email=email)) == [second["order_id"], first["order_id"]]
    assert ids(ListOrders(Viewer("merchant", "mer_other"), email=email)) == []
    with pytest.raises(Forbidden):
        svc(ListOrders(Viewer("customer", order_id=first["order_id"])))
    with pytest.raises(Invalid) as refused:        # an empty range: nothing could match
        svc(ListOrders(own, created_from=day_two, created_before=day_two))
    assert refused.value.field == "created_to"
