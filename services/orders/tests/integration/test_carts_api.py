"""Carts, checkout and orders over HTTP, on SQLite and PostgreSQL."""
import pytest

from tillkey.contracts import parse_message
from tillkey.orders.entrypoints import schemas as s
from tillkey.platform.credentials import make_order_token

pytestmark = pytest.mark.integration


@pytest.fixture
def products(make_product):
    editor = make_product("Editor", {"EUR": 4900, "JPY": 7000})["product_id"]
    plugin = make_product("Plugin", {"EUR": 1000})["product_id"]
    return editor, plugin


def new_cart(client, *lines, **extra):
    resp = client.post("/v1/carts", json={"lines": [{"product_id": p, "quantity": q} for p, q in lines], **extra})
    assert resp.status_code == 201, resp.json
    return resp.json


def test_cart_lifecycle(client, merchant, products):
    editor, plugin = products
    client.post("/v1/coupons", json={"code": "TEN", "amount_off": {"EUR": 1000}}, headers=merchant[1])
    cart = new_cart(client, (editor, 1), (plugin, 2), coupon="ten", custom={"ref": "A-1"},
                    return_url="https://acme.example/shop", email="ada@example.com")
    assert (cart["status"], cart["currency"], cart["subtotal"], cart["discount"], cart["total"]) == (
        "open", "EUR", 6900, 1000, 5900)
    assert sum(line["discount"] for line in cart["lines"]) == 1000
    assert cart["cart_id"].startswith("cart_") and len(cart["cart_id"]) >= 27
    cid = cart["cart_id"]
    assert client.get(f"/v1/carts/{cid}").json == cart
    cart = client.post(f"/v1/carts/{cid}/lines", json={"product_id": plugin, "quantity": 3}).json
    assert [line["quantity"] for line in cart["lines"]] == [1, 5]
    plugin_line = cart["lines"][1]["line_id"]
    cart = client.patch(f"/v1/carts/{cid}/lines/{plugin_line}", json={"quantity": 0}).json
    assert [line["product_id"] for line in cart["lines"]] == [editor]
    cart = client.patch(f"/v1/carts/{cid}", json={"coupon": None, "currency": "JPY"}).json
    assert (cart["currency"], cart["coupon"], cart["total"]) == ("JPY", None, 7000)


def test_unknown_cart_and_line(client, products):
    assert client.get("/v1/carts/cart_nope").status_code == 404
    assert client.patch("/v1/carts/cart_nope", json={"currency": "EUR"}).status_code == 404
    cid = new_cart(client, (products[0], 1))["cart_id"]
    assert client.patch(f"/v1/carts/{cid}/lines/line_nope", json={"quantity": 2}).status_code == 404


@pytest.mark.parametrize("case", ["other_merchant", "inactive", "no_price", "too_many", "zero", "unknown", "no_lines",
                                  "bad_currency", "unknown_coupon", "bad_url", "bad_custom"])
def test_create_cart_bad_input(client, db, merchant, products, make_product, other_merchant, case):
    editor, plugin = products
    theirs = make_product("Theirs", {"EUR": 1}, headers=other_merchant[1])["product_id"]
    client.patch(f"/v1/products/{plugin}", json={"active": False}, headers=merchant[1])
    usd_only = make_product("Usd", {"USD": 100}, default_currency="USD")["product_id"]
    body = {"other_merchant": {"lines": [{"product_id": editor, "quantity": 1}, {"product_id": theirs, "quantity": 1}]},
            "inactive": {"lines": [{"product_id": plugin, "quantity": 1}]},
            "no_price": {"lines": [{"product_id": editor, "quantity": 1}, {"product_id": usd_only, "quantity": 1}]},
            "too_many": {"lines": [{"product_id": editor, "quantity": 1001}]},
            "zero": {"lines": [{"product_id": editor, "quantity": 0}]},
            "unknown": {"lines": [{"product_id": "prod_nope", "quantity": 1}]},
            "no_lines": {"lines": []},
            "bad_currency": {"lines": [{"product_id": editor, "quantity": 1}], "currency": "EURO"},
            "unknown_coupon": {"lines": [{"product_id": editor, "quantity": 1}], "coupon": "NOPE"},
            "bad_url": {"lines": [{"product_id": editor, "quantity": 1}], "return_url": "javascript:alert(1)"},
            "bad_custom": {"lines": [{"product_id": editor, "quantity": 1}], "custom": {"bad key": "x"}}}[case]
    before = db.snapshot()
    resp = client.post("/v1/carts", json=body)
    assert resp.status_code == 422, resp.json
    assert resp.json["errors"] and resp.mimetype == "application/problem+json"
    assert db.snapshot() == before


def test_cart_changes_bad_input_change_nothing(client, db, merchant, products, make_product):
    editor, plugin = products
    usd_only = make_product("Usd", {"USD": 100}, default_currency="USD")["product_id"]
    client.post("/v1/coupons", json={"code": "OFF", "percent_off": 5}, headers=merchant[1])
    client.patch("/v1/coupons/OFF", json={"active": False}, headers=merchant[1])
    cart = new_cart(client, (editor, 1), (plugin, 1))
    cid, line = cart["cart_id"], cart["lines"][0]["line_id"]
    before = db.snapshot()
    attempts = [
        ("post", f"/v1/carts/{cid}/lines", {"product_id": usd_only, "quantity": 1}),
        ("post", f"/v1/carts/{cid}/lines", {"product_id": editor, "quantity": 1000}),
        ("post", f"/v1/carts/{cid}/lines", {"product_id": "prod_nope", "quantity": 1}),
        ("post", f"/v1/carts/{cid}/lines", {"product_id": editor}),
        ("patch", f"/v1/carts/{cid}/lines/{line}", {"quantity": -1}),
        ("patch", f"/v1/carts/{cid}/lines/{line}", {"quantity": "2"}),
        ("patch", f"/v1/carts/{cid}", {"currency": "JPY"}),           # the plugin has no JPY price
        ("patch", f"/v1/carts/{cid}", {"currency": None}),
        ("patch", f"/v1/carts/{cid}", {"coupon": "OFF"}),             # inactive
        ("patch", f"/v1/carts/{cid}", {"coupon": "NOPE"}),
    ]
    for method, path, body in attempts:
        resp = getattr(client, method)(path, json=body)
        assert resp.status_code == 422, (path, body, resp.json)
    assert client.get(f"/v1/carts/{cid}").json == cart
    assert db.snapshot() == before


def test_inactive_coupon_message(client, merchant, products):
    client.post("/v1/coupons", json={"code": "OLD", "percent_off": 5}, headers=merchant[1])
    client.patch("/v1/coupons/OLD", json={"active": False}, headers=merchant[1])
    cid = new_cart(client, (products[0], 1))["cart_id"]
    resp = client.patch(f"/v1/carts/{cid}", json={"coupon": "old"})
    assert resp.status_code == 422 and resp.json["code"] == "coupon_inactive"
    assert resp.json["errors"] == {"coupon": ["The coupon OLD is no longer active."]}


def test_checkout(client, db, merchant, products, checkout_body):
    editor, plugin = products
    client.post("/v1/coupons", json={"code": "HALF", "percent_off": 50}, headers=merchant[1])
    cid = new_cart(client, (editor, 1), (plugin, 3), coupon="HALF", custom={"shop_ref": "A-1001"})["cart_id"]
    resp = client.post(f"/v1/carts/{cid}/checkout", json=checkout_body)
    assert resp.status_code == 201, resp.json
    order_id, token = resp.json["order_id"], resp.json["order_token"]
    assert token == make_order_token("test-platform-secret", order_id)
    assert resp.json["payment_url"] == f"https://pay.test/pay/{order_id}?token={token}"
    order = resp.json["order"]
    assert (order["status"], order["delivery_status"], order["subtotal"], order["discount"], order["total"]) == (
        "not_paid", "not_delivered", 7900, 3950, 3950)
    assert order["custom"] == {"shop_ref": "A-1001"} and order["coupon"] == "HALF"
    assert order["customer"] == checkout_body["customer"]
    assert [line["delivery_status"] for line in order["lines"]] == ["pending", "pending"]
    # Exactly one order.created, whose data is the order as the API shows it.
    [body] = db.outbox("order.created")
    event = parse_message(body)
    assert event.data == client.get(f"/v1/orders/{order_id}", headers=merchant[1]).json == order
    assert client.get("/v1/coupons", headers=merchant[1]).json["data"][0]["redemptions"] == 1
    # The cart is locked.
    cart = client.get(f"/v1/carts/{cid}").json
    assert (cart["status"], cart["order_id"]) == ("checked_out", order_id)
    assert client.post(f"/v1/carts/{cid}/checkout", json=checkout_body).status_code == 409
    assert client.post(f"/v1/carts/{cid}/lines", json={"product_id": editor, "quantity": 1}).status_code == 409
    assert client.patch(f"/v1/carts/{cid}", json={"coupon": None}).status_code == 409
    assert client.patch(f"/v1/carts/{cid}/lines/{cart['lines'][0]['line_id']}",
                        json={"quantity": 5}).status_code == 409
    assert len(db.outbox("order.created")) == 1 and db.snapshot()["orders"] == 1


@pytest.mark.parametrize("mutate,field", [
    (lambda b: b["consents"].update(terms=False), "consents.terms"),
    (lambda b: b["consents"].pop("personal_data"), "consents.personal_data"),
    (lambda b: b.pop("consents"), "consents"),
    (lambda b: b.update(payment_method="bitcoin"), "payment_method"),
    (lambda b: b["customer"].update(country="XX"), "customer.country"),
    (lambda b: b["customer"].update(country="gb"), "customer.country"),
    (lambda b: b["customer"].update(email="nope"), "customer.email"),
    (lambda b: b["customer"].pop("last_name"), "customer.last_name"),
    (lambda b: b["customer"].update(first_name="  "), "customer.first_name"),
    (lambda b: b["customer"].update(locale="English!"), "customer.locale"),
    (lambda b: b["consents"].update(terms="true"), "consents.terms"),
    # 1 is not true (issue 18: `1 in {True}` let it through marshmallow's Boolean).
    (lambda b: b["consents"].update(terms=1, personal_data=1), "consents.terms"),
    (lambda b: b["consents"].update(personal_data=1.0), "consents.personal_data"),
])
def test_checkout_bad_input_changes_nothing(client, db, products, checkout_body, mutate, field):
    cid = new_cart(client, (products[0], 1))["cart_id"]
    mutate(checkout_body)
    before = db.snapshot()
    resp = client.post(f"/v1/carts/{cid}/checkout", json=checkout_body)
    assert resp.status_code == 422 and field in resp.json["errors"], resp.json
    assert db.snapshot() == before and client.get(f"/v1/carts/{cid}").json["status"] == "open"


def test_checkout_refuses_empty_or_unbuyable_carts(client, db, merchant, products, checkout_body):
    editor, plugin = products
    cart = new_cart(client, (editor, 1))
    client.patch(f"/v1/carts/{cart['cart_id']}/lines/{cart['lines'][0]['line_id']}", json={"quantity": 0})
    assert client.post(f"/v1/carts/{cart['cart_id']}/checkout", json=checkout_body).json["code"] == "cart_empty"
    cid = new_cart(client, (plugin, 1))["cart_id"]
    client.patch(f"/v1/products/{plugin}", json={"active": False}, headers=merchant[1])
    assert client.get(f"/v1/carts/{cid}").json["lines"][0]["problem"] == "This product is no longer sold."
    resp = client.post(f"/v1/carts/{cid}/checkout", json=checkout_body)
    assert resp.status_code == 422 and resp.json["code"] == "cart_not_buyable"
    assert db.snapshot()["orders"] == 0


def test_coupon_max_redemptions_at_checkout(client, db, merchant, products, checkout_body):
    client.post("/v1/coupons", json={"code": "ONCE", "percent_off": 10, "max_redemptions": 1}, headers=merchant[1])
    first = new_cart(client, (products[0], 1), coupon="ONCE")["cart_id"]
    second = new_cart(client, (products[0], 1), coupon="ONCE")["cart_id"]
    assert client.post(f"/v1/carts/{first}/checkout", json=checkout_body).status_code == 201
    resp = client.post(f"/v1/carts/{second}/checkout", json=checkout_body)
    assert resp.status_code == 422 and "used up" in resp.json["detail"]
    assert db.snapshot()["orders"] == 1
    assert client.get("/v1/coupons", headers=merchant[1]).json["data"][0]["redemptions"] == 1
    assert client.patch(f"/v1/carts/{second}", json={"coupon": None}).status_code == 200
    assert client.post(f"/v1/carts/{second}/checkout", json=checkout_body).status_code == 201


def test_idempotent_checkout(client, db, products, checkout_body):
    cid = new_cart(client, (products[0], 1))["cart_id"]
    headers = {"Idempotency-Key": "checkout-1"}
    first = client.post(f"/v1/carts/{cid}/checkout", json=checkout_body, headers=headers)
    again = client.post(f"/v1/carts/{cid}/checkout", json=checkout_body, headers=headers)
    assert first.status_code == again.status_code == 201 and again.json == first.json
    checkout_body["payment_method"] = "bank_transfer"
    assert client.post(f"/v1/carts/{cid}/checkout", json=checkout_body, headers=headers).status_code == 422
    assert len(db.outbox("order.created")) == 1


def test_idempotent_refusal_replays_as_a_problem(client, db, products, checkout_body):
    cid = new_cart(client, (products[0], 1))["cart_id"]
    checkout_body["consents"]["terms"] = False
    headers = {"Idempotency-Key": "refused-1"}
    first = client.post(f"/v1/carts/{cid}/checkout", json=checkout_body, headers=headers)
    again = client.post(f"/v1/carts/{cid}/checkout", json=checkout_body, headers=headers)
    assert first.status_code == again.status_code == 422 and again.json == first.json
    assert again.mimetype == first.mimetype == "application/problem+json"
    assert db.snapshot()["orders"] == 0


def test_idempotent_cart_creation_and_line_add(client, db, products):
    body = {"lines": [{"product_id": products[0], "quantity": 1}]}
    first = client.post("/v1/carts", json=body, headers={"Idempotency-Key": "c1"})
    assert client.post("/v1/carts", json=body, headers={"Idempotency-Key": "c1"}).json == first.json
    cid = first.json["cart_id"]
    for _ in range(2):
        resp = client.post(f"/v1/carts/{cid}/lines", json={"product_id": products[1], "quantity": 1},
                           headers={"Idempotency-Key": "add-plugin"})
        assert resp.status_code == 200
    assert [line["quantity"] for line in client.get(f"/v1/carts/{cid}").json["lines"]] == [1, 1]
    assert db.snapshot()["carts"] == 1
    assert client.post("/v1/carts", json=body, headers={"Idempotency-Key": "x" * 256}).status_code == 422


@pytest.fixture
def order(client, products, checkout_body):
    cid = new_cart(client, (products[0], 2))["cart_id"]
    return client.post(f"/v1/carts/{cid}/checkout", json=checkout_body).json


def test_order_access(client, merchant, other_merchant, admin, order):
    oid, token = order["order_id"], order["order_token"]
    assert client.get(f"/v1/orders/{oid}", headers=merchant[1]).json == order["order"]
    assert client.get(f"/v1/orders/{oid}", headers=admin).json == order["order"]
    assert client.get(f"/v1/orders/{oid}?token={token}").json == order["order"]
    assert client.get(f"/v1/orders/{oid}", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get(f"/v1/orders/{oid}", headers=other_merchant[1]).status_code == 404
    assert client.get(f"/v1/orders/{oid}?token=wrong").status_code == 404
    other_token = make_order_token("test-platform-secret", "ord_other")
    assert client.get(f"/v1/orders/{oid}?token={other_token}").status_code == 404
    assert client.get(f"/v1/orders/{oid}").status_code == 401
    assert client.get("/v1/orders/ord_nope", headers=admin).status_code == 404
    assert client.get("/v1/orders/ord_nope", headers=merchant[1]).status_code == 404


def test_order_list(client, merchant, other_merchant, admin, order, products, checkout_body, clock):
    clock.advance(seconds=5)
    cid = new_cart(client, (products[1], 1))["cart_id"]
    second = client.post(f"/v1/carts/{cid}/checkout", json=checkout_body).json
    page = client.get("/v1/orders?limit=1", headers=merchant[1]).json
    assert [o["order_id"] for o in page["data"]] == [second["order_id"]] and page["next_cursor"]
    rest = client.get(f"/v1/orders?limit=1&cursor={page['next_cursor']}", headers=merchant[1]).json
    assert [o["order_id"] for o in rest["data"]] == [order["order_id"]] and rest["next_cursor"] is None
    assert len(client.get("/v1/orders?status=not_paid&delivery_status=not_delivered", headers=merchant[1])
               .json["data"]) == 2
    assert client.get("/v1/orders?status=paid", headers=merchant[1]).json["data"] == []
    assert client.get("/v1/orders", headers=other_merchant[1]).json["data"] == []
    # Support lists every merchant's orders (tests/integration/test_order_search.py searches them).
    assert len(client.get("/v1/orders", headers=admin).json["data"]) == 2
    assert client.get(f"/v1/orders?token={order['order_token']}").status_code == 401
    for query in ("status=lost", "limit=0", "limit=201", "cursor=garbage", "delivery_status=x", "color=red"):
        resp = client.get(f"/v1/orders?{query}", headers=merchant[1])
        assert resp.status_code == 422, query


def test_cart_and_checkout_answers_are_what_their_schemas_dump(client, merchant, products, checkout_body,
                                                               monkeypatch):
    """Both answers go out as views.py built them, without the schema's dump (entrypoints.common.as_built):
    the dump must not change them, or the answers would drift from what the OpenAPI document says."""
    def not_on_the_hot_path(*args, **kwargs):
        raise AssertionError("dumped")
    client.post("/v1/coupons", json={"code": "TEN", "percent_off": 10}, headers=merchant[1])
    for schema in (s.CartOut, s.CheckoutOut):
        monkeypatch.setattr(schema, "dump", not_on_the_hot_path)
    cart = new_cart(client, (products[0], 1), (products[1], 2), coupon="TEN", custom={"ref": "A-1"},
                    email="ada@example.com", return_url="https://acme.example/shop")
    checkout_body["customer"].update(company=None, vat_id=None)
    answer = client.post(f"/v1/carts/{cart['cart_id']}/checkout", json=checkout_body)
    monkeypatch.undo()
    assert s.CartOut().dump(cart) == cart
    assert answer.status_code == 201 and answer.mimetype == "application/json"
    assert s.CheckoutOut().dump(answer.json) == answer.json
    assert answer.json["order"]["lines"][1]["quantity"] == 2
