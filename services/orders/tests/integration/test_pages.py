"""The checkout link (`/buy/{product_id}`) and the checkout page."""
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def products(make_product):
    editor = make_product("Editor", {"EUR": 4900, "JPY": 7000})["product_id"]
    plugin = make_product("Plugin", {"EUR": 1000, "JPY": 1500})["product_id"]
    return editor, plugin


def buy(client, product_id, query=""):
    return client.get(f"/buy/{product_id}{'?' + query if query else ''}")


def cart_of(client, resp):
    assert resp.status_code == 303, resp.data[:500]
    cart_id = resp.headers["Location"].rsplit("/", 1)[1]
    assert resp.headers["Location"] == f"/checkout/{cart_id}"
    return client.get(f"/v1/carts/{cart_id}").json


def test_link_sets_a_cart_cookie_per_merchant(client, merchant, products):
    resp = buy(client, products[0], "quantity=2")
    cart = cart_of(client, resp)
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith(f"tk_cart_{merchant[0]}={cart['cart_id']};")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=7776000" in cookie and "Path=/" in cookie
    assert [(line["product_id"], line["quantity"]) for line in cart["lines"]] == [(products[0], 2)]


def test_reload_does_not_double_and_second_product_joins(client, products):
    editor, plugin = products
    first = cart_of(client, buy(client, editor, "quantity=2"))
    again = cart_of(client, buy(client, editor, "quantity=2"))
    both = cart_of(client, buy(client, plugin))
    assert first["cart_id"] == again["cart_id"] == both["cart_id"]
    assert [(line["product_id"], line["quantity"]) for line in both["lines"]] == [(editor, 2), (plugin, 1)]
    assert cart_of(client, buy(client, editor, "quantity=5"))["lines"][0]["quantity"] == 5
    # A link without a quantity leaves the line as the customer set it.
    assert cart_of(client, buy(client, editor))["lines"][0]["quantity"] == 5


def test_merchants_get_separate_carts(client, products, make_product, other_merchant):
    theirs = make_product("Theirs", {"EUR": 100}, headers=other_merchant[1])["product_id"]
    mine = cart_of(client, buy(client, products[0]))
    other = cart_of(client, buy(client, theirs))
    assert mine["cart_id"] != other["cart_id"]
    assert cart_of(client, buy(client, products[1]))["cart_id"] == mine["cart_id"]


def test_currency_reprices_and_details_are_kept(client, merchant, products):
    client.post("/v1/coupons", json={"code": "TEN", "percent_off": 10}, headers=merchant[1])
    editor, plugin = products
    cart_of(client, buy(client, editor))
    query = ("currency=JPY&coupon=ten&email=ada%40example.com&return_url=" + quote("https://acme.example/shop?x=1")
             + "&custom[shop_ref]=A-1&custom[campaign]=spring&utm_source=news")
    cart = cart_of(client, buy(client, plugin, query))
    assert (cart["currency"], cart["subtotal"], cart["discount"], cart["total"]) == ("JPY", 8500, 850, 7650)
    assert (cart["email"], cart["return_url"], cart["coupon"]) == ("ada@example.com", "https://acme.example/shop?x=1",
                                                                   "TEN")
    assert cart["custom"] == {"shop_ref": "A-1", "campaign": "spring"}


def test_clear_empties_first(client, products):
    editor, plugin = products
    first = cart_of(client, buy(client, editor, "custom[a]=1"))
    cart = cart_of(client, buy(client, plugin, "clear=1"))
    assert cart["cart_id"] == first["cart_id"]
    assert [line["product_id"] for line in cart["lines"]] == [plugin] and cart["custom"] == {}


def test_checked_out_cart_is_never_reused(client, db, products, checkout_body):
    first = cart_of(client, buy(client, products[0]))
    assert client.post(f"/v1/carts/{first['cart_id']}/checkout", json=checkout_body).status_code == 201
    second = cart_of(client, buy(client, products[0]))
    assert second["cart_id"] != first["cart_id"] and second["status"] == "open"
    assert client.get(f"/v1/carts/{first['cart_id']}").json["lines"] == first["lines"]


def test_unknown_and_inactive_products(client, db, merchant, products):
    resp = buy(client, "prod_nope")
    assert resp.status_code == 404 and resp.mimetype == "text/html"
    client.patch(f"/v1/products/{products[1]}", json={"active": False}, headers=merchant[1])
    resp = buy(client, products[1])
    assert resp.status_code == 410 and b"no longer sold" in resp.data
    assert db.snapshot()["carts"] == 0


@pytest.mark.parametrize("query", ["quantity=0", "quantity=1001", "quantity=abc", "currency=XXX", "currency=usd",
                                   "currency=USD", "coupon=NOPE", "email=nope", "return_url=javascript:alert(1)",
                                   "return_url=ftp://x.example", "clear=maybe", "custom[bad key]=x",
                                   "custom[k]=" + "x" * 501])
def test_bad_parameters_are_a_4xx_page_and_change_nothing(client, db, products, query):
    # USD is a valid code, but the editor has no USD price.
    cart_of(client, buy(client, products[0]))
    before = db.snapshot()
    cart = client.get(f"/v1/carts/{db_cart_id(db)}").json
    resp = buy(client, products[0], query)
    assert 400 <= resp.status_code < 500 and resp.mimetype == "text/html", (query, resp.status_code)
    assert db.snapshot() == before
    assert client.get(f"/v1/carts/{cart['cart_id']}").json == cart


def db_cart_id(db):
    from sqlalchemy import select

    from tillkey.orders.adapters.tables import carts
    with db.engine.connect() as conn:
        return conn.execute(select(carts.c.cart_id)).scalar_one()


def test_checkout_page(client, merchant, products):
    client.patch(f"/v1/products/{products[0]}", json={"name": "<script>alert(1)</script> Editor"},
                 headers=merchant[1])
    resp = buy(client, products[0], "quantity=2&email=ada%40example.com&return_url=https%3A%2F%2Facme.example%2F")
    page = client.get(resp.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Editor" in html and "<script>alert" not in html
    assert "€98.00" in html and 'value="ada@example.com"' in html and 'href="https://acme.example/"' in html
    jpy = client.get(buy(client, products[0], "currency=JPY").headers["Location"]).get_data(as_text=True)
    assert "¥14,000" in jpy
    missing = client.get("/checkout/cart_nope")
    assert missing.status_code == 404 and missing.mimetype == "text/html"


def test_the_bare_host_is_a_page_not_a_json_404(client):
    resp = client.get("/", headers={"Accept-Language": "de-DE"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert "Tillkey-Checkout" in html and "/buy/prod_" in html and 'href="/openapi.json"' in html
    assert "Content-Security-Policy" in resp.headers


def test_the_favicon_is_served(client):
    resp = client.get("/favicon.ico")
    assert resp.status_code == 200 and resp.mimetype == "image/vnd.microsoft.icon"
