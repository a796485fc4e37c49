"""The checkout page's form posts: cart changes, coupon, validation, checkout, and forged posts."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.integration

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin", "Origin": "https://shop.test"}


@pytest.fixture
def page(client, make_product, merchant):
    """Open the checkout link for two products; answers (cart id, form token, products)."""
    client.post("/v1/coupons", json={"code": "TEN", "percent_off": 10}, headers=merchant[1])
    editor = make_product("Editor", {"EUR": 4900})["product_id"]
    plugin = make_product("Plugin", {"EUR": 1000})["product_id"]
    client.get(f"/buy/{editor}?quantity=2&email=ada%40example.com&return_url=https%3A%2F%2Facme.example%2Fshop")
    resp = client.get(f"/buy/{plugin}")
    cart_id = resp.headers["Location"].rsplit("/", 1)[1]
    html = client.get(f"/checkout/{cart_id}").get_data(as_text=True)
    token = re.search(r'name="form_token" value="([^"]+)"', html).group(1)
    return cart_id, token, (editor, plugin)


def cart(client, cart_id):
    return client.get(f"/v1/carts/{cart_id}").json


def post(client, cart_id, token, headers=SAME_ORIGIN, **form):
    return client.post(f"/checkout/{cart_id}", data={"form_token": token, **form}, headers=headers)


PERSON = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "country": "GB",
          "payment_method": "bank_transfer", "terms": "yes", "personal_data": "yes"}


def test_page_shows_lines_totals_merchant_and_security_headers(client, page):
    cart_id, _, _ = page
    resp = client.get(f"/checkout/{cart_id}", headers={"Accept-Language": "en-GB,en;q=0.8"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Acme" in html and "€108.00" in html
    assert 'value="ada@example.com"' in html and 'href="https://acme.example/shop"' in html
    assert '<option value="GB" selected>' in html                      # guessed from Accept-Language
    for consent in ("terms", "personal_data"):                          # two separate boxes, unticked
        tag = re.search(rf'<input type="checkbox" id="f-{consent}"[^>]*>', html).group(0)
        assert "checked" not in tag
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "form-action 'self' https://pay.test" in csp
    assert resp.headers["Cache-Control"] == "no-store"


def test_quantity_change_remove_and_coupon_keep_what_was_typed(client, page):
    cart_id, token, (editor, plugin) = page
    lines = {line["product_id"]: line["line_id"] for line in cart(client, cart_id)["lines"]}
    typed = {"first_name": "Ada", "company": "Engines Ltd"}
    resp = post(client, cart_id, token, action="update", **{f"qty.{lines[editor]}": "3"}, **typed)
    assert resp.status_code == 200 and 'value="Engines Ltd"' in resp.get_data(as_text=True)
    assert cart(client, cart_id)["subtotal"] == 3 * 4900 + 1000
    resp = post(client, cart_id, token, action="apply_coupon", coupon="ten", **typed)
    html = resp.get_data(as_text=True)
    assert cart(client, cart_id)["discount"] == 1570 and "−€15.70" in html and 'value="Ada"' in html
    assert post(client, cart_id, token, action="remove_coupon").status_code == 200
    assert cart(client, cart_id)["coupon"] is None
    assert post(client, cart_id, token, action=f"remove:{lines[plugin]}").status_code == 200
    assert post(client, cart_id, token, action=f"remove:{lines[plugin]}").status_code == 200   # a reload
    assert [line["product_id"] for line in cart(client, cart_id)["lines"]] == [editor]


def test_bad_input_is_shown_at_its_field_and_nothing_changes(client, page, db):
    cart_id, token, (editor, _) = page
    line = cart(client, cart_id)["lines"][0]["line_id"]
    before = db.snapshot()
    resp = post(client, cart_id, token, action="checkout", email="not-an-email", first_name="Ada",
                last_name="", country="GB", company="Engines", **{f"qty.{line}": "2"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and db.snapshot() == before
    assert 'aria-describedby="e-email' in html and 'id="e-email"' in html and 'id="e-last_name"' in html
    assert 'id="e-terms"' in html and 'id="e-personal_data"' in html
    assert 'value="not-an-email"' in html and 'value="Engines"' in html
    resp = post(client, cart_id, token, action="apply_coupon", coupon="NOPE")
    assert resp.status_code == 422 and "This coupon code does not exist." in resp.get_data(as_text=True)
    resp = post(client, cart_id, token, action="update", **{f"qty.{line}": "0"})
    assert resp.status_code == 422 and 'id="e-qty.' in resp.get_data(as_text=True)
    assert db.snapshot() == before


def test_continue_places_the_order_and_goes_to_the_payment_page(client, page, admin):
    cart_id, token, _ = page
    resp = post(client, cart_id, token, action="checkout", locale="de", **PERSON)
    assert resp.status_code == 303
    url = urlsplit(resp.headers["Location"])
    assert (url.scheme, url.netloc) == ("https", "pay.test") and parse_qs(url.query)["locale"] == ["de"]
    order_id = url.path.rsplit("/", 1)[1]
    order = client.get(f"/v1/orders/{order_id}", headers=admin).json
    assert order["customer"]["locale"] == "de" and order["payment_method"] == "bank_transfer"
    # The cart is done: the page and any later post lead to the payment page.
    assert client.get(f"/checkout/{cart_id}").headers["Location"].startswith(f"https://pay.test/pay/{order_id}")
    assert post(client, cart_id, token, action="update").headers["Location"].startswith("https://pay.test/")


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
                                     {"Origin": "https://evil.example"}, {"Referer": "https://evil.example/x"}])
def test_forged_posts_are_refused(client, page, db, headers):
    cart_id, token, _ = page
    before = db.snapshot()
    resp = post(client, cart_id, token, headers=headers, action="checkout", **PERSON)
    assert resp.status_code == 403 and resp.mimetype == "text/html" and db.snapshot() == before


def test_wrong_form_token_is_refused(client, page, db):
    cart_id, _, _ = page
    before = db.snapshot()
    assert post(client, cart_id, "forged", action="checkout", **PERSON).status_code == 403
    assert db.snapshot() == before


def test_locale_of_the_link_is_kept_on_the_cart_and_the_page_speaks_it(client, make_product):
    product = make_product("Editor", {"EUR": 4900})["product_id"]
    resp = client.get(f"/buy/{product}?locale=de_DE")
    cart_id = resp.headers["Location"].rsplit("/", 1)[1]
    assert cart(client, cart_id)["locale"] == "de-DE"
    html = client.get(f"/checkout/{cart_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="de">' in html and "Weiter zur Zahlung" in html and "Deutschland" in html
    other = client.get(f"/buy/{make_product('B', {'EUR': 100})['product_id']}?clear=1",
                       headers={"Cookie": ""})   # a fresh cart: no link locale, the browser decides
    fresh = other.headers["Location"]
    assert '<html lang="de">' in client.get(fresh, headers={"Accept-Language": "de-AT,de;q=0.9"}).get_data(as_text=True)


@pytest.mark.parametrize("typed, field", [("²", "qty"), ("1²", "qty"), ("Ada\x00", "first_name")])
def test_odd_characters_in_the_form_are_refused_and_change_nothing(client, page, db, typed, field):
    """Found by fuzzing: "²" passed isdigit() and int() raised (500); a NUL reached PostgreSQL (500)."""
    cart_id, token, _ = page
    line = cart(client, cart_id)["lines"][0]["line_id"]
    before = db.snapshot()
    form = {f"qty.{line}": typed} if field == "qty" else {**PERSON, field: typed}
    resp = post(client, cart_id, token, action="checkout" if field != "qty" else "update", **form)
    assert resp.status_code == 422 and resp.mimetype == "text/html"
    assert db.snapshot() == before


def test_a_nul_in_the_coupon_field_is_refused_on_postgresql_too(client, page, db):
    cart_id, token, _ = page
    before = db.snapshot()
    resp = post(client, cart_id, token, action="apply_coupon", coupon="TEN\x00")
    assert resp.status_code == 422 and resp.mimetype == "text/html" and db.snapshot() == before
