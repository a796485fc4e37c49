"""The customer's pages in a real browser, against the real processes: checkout link → checkout
page → payment page → order page, in English and German, on a desktop and a phone."""
from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

GOOD, DECLINED = "4242424242424242", "4000000000000002"


@pytest.fixture
def shop(client):
    """A merchant and a pool-delivered product with a key in the pool."""
    merchant = client.new_merchant("Acme Software")
    product = client.new_product(merchant["api_key"], name="Pro Editor", prices={"EUR": 4900})
    client.call("fulfillment", "PUT", f"/v1/products/{product['product_id']}/license-source", merchant["api_key"],
                json={"method": "pool"}, expect=200)
    key = f"PRO-{uuid.uuid4().hex[:12].upper()}"
    client.call("fulfillment", "POST", f"/v1/products/{product['product_id']}/licenses", merchant["api_key"],
                json={"keys": [key]}, expect=201)
    return {"merchant": merchant, "product": product, "key": key}


def link(client, shop, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"return_url": "https://acme.example/shop", **params}.items())
    return f"{client.urls['orders']}/buy/{shop['product']['product_id']}?{query}"


def fill_details(page, email="ada@example.com", first="Ada", last="Lovelace", country="GB", method="card",
                 consent=True):
    page.fill("#f-email", email)
    page.fill("#f-first_name", first)
    page.fill("#f-last_name", last)
    page.select_option("#f-country", country)
    page.check(f"input[name=payment_method][value={method}]")
    if consent:
        page.check("#f-terms")
        page.check("#f-personal_data")


def pay_by_card(page, number=GOOD):
    page.fill("#card-number", number)
    page.fill("#card-exp-month", "12")
    page.fill("#card-exp-year", "2040")
    page.fill("#card-cvc", "123")
    page.click("#pay-card")


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_card_purchase_ends_with_the_license_on_the_order_page(client, shop, open_page):
    page = open_page()
    page.goto(link(client, shop, email="ada@example.com"))
    expect(page.locator("#merchant-name")).to_have_text("Acme Software")
    expect(page.locator("#total")).to_have_text("49.00 EUR")
    expect(page.locator("#f-email")).to_have_value("ada@example.com")
    expect(page.locator("#return")).to_have_attribute("href", "https://acme.example/shop")
    shot(page, "card_purchase-1-checkout")
    fill_details(page)
    page.click("#continue")
    page.wait_for_url(re.compile(r"/pay/ord_"))
    expect(page.locator("#amount")).to_have_text("49.00 EUR")
    expect(page.locator("#card-form")).to_be_visible()
    shot(page, "card_purchase-2-card-form")
    pay_by_card(page)
    expect(page.locator("#paid")).to_be_visible()
    shot(page, "card_purchase-3-paid")
    page.click("#order-link")
    page.wait_for_url(re.compile(r"/orders/ord_"))
    key_field = page.locator("input.key")
    deadline = time.monotonic() + 30
    while key_field.count() == 0 and time.monotonic() < deadline:   # fulfillment is asynchronous
        page.wait_for_timeout(500)
        page.reload()
    expect(key_field).to_have_value(shop["key"])
    expect(page.locator("#payment .status-ok")).to_be_visible()
    expect(page.locator("button.copy")).to_be_visible()
    expect(page.locator("#resend button")).to_be_visible()


def test_declined_card_shows_why_and_a_retry_succeeds(client, shop, open_page):
    page = open_page()
    page.goto(link(client, shop))
    fill_details(page)
    page.click("#continue")
    pay_by_card(page, DECLINED)
    expect(page.locator("#failed")).to_be_visible()
    expect(page.locator("#failure-message")).to_contain_text("declined")
    shot(page, "declined_card-1-failed")
    page.click("#retry")
    expect(page.locator("#card-number")).to_be_focused()
    pay_by_card(page, GOOD)
    expect(page.locator("#paid")).to_be_visible()


def test_bank_transfer_shows_the_instructions_with_the_reference(client, shop, open_page):
    page = open_page()
    page.goto(link(client, shop))
    fill_details(page, method="bank_transfer")
    page.click("#continue")
    expect(page.locator("#bank-choice")).to_be_visible()          # preselected at checkout
    page.click("#pay-bank")
    expect(page.locator("#instructions")).to_be_visible()
    order_id = re.search(r"/pay/(ord_\w+)", page.url).group(1)
    token = re.search(r"token=([^&]+)", page.url).group(1)
    [attempt] = client.call("payments", "GET", f"/v1/orders/{order_id}/payments", params={"token": token},
                            expect=200).json()["data"]
    expect(page.locator("#bt-reference")).to_have_text(attempt["instructions"]["reference"])
    expect(page.locator("#bt-amount")).to_have_text("49.00 EUR")
    expect(page.locator("button[data-copy=bt-reference]")).to_be_visible()


def test_a_coupon_shows_the_discount_and_the_new_total(client, shop, open_page):
    client.call("orders", "POST", "/v1/coupons", shop["merchant"]["api_key"], expect=201,
                json={"code": "SPRING", "percent_off": 10})
    page = open_page()
    page.goto(link(client, shop))
    page.fill("#f-email", "typed.before@example.com")
    page.fill("#f-coupon", "spring")
    page.click("button[value=apply_coupon]")
    expect(page.locator("#discount")).to_have_text("−4.90 EUR")
    expect(page.locator("#total")).to_have_text("44.10 EUR")
    expect(page.locator("#applied-coupon")).to_have_text("SPRING")
    expect(page.locator("#f-email")).to_have_value("typed.before@example.com")   # nothing typed is lost


def test_errors_are_shown_at_their_fields_with_what_was_typed(client, shop, open_page):
    page = open_page()
    page.goto(link(client, shop))
    fill_details(page, email="not-an-email", last="", consent=False)
    page.fill("#f-company", "Analytical Engines")
    page.click("#continue")
    expect(page.locator("#error-summary")).to_be_visible()
    for name in ("email", "last_name", "terms", "personal_data"):
        expect(page.locator(f"#e-{name}")).to_be_visible()
        expect(page.locator(f"#f-{name}")).to_have_attribute("aria-invalid", "true")
        assert f"e-{name}" in page.locator(f"#f-{name}").get_attribute("aria-describedby")
    expect(page.locator("#f-email")).to_have_value("not-an-email")
    expect(page.locator("#f-first_name")).to_have_value("Ada")
    expect(page.locator("#f-company")).to_have_value("Analytical Engines")
    expect(page.locator("#f-country")).to_have_value("GB")
    shot(page, "validation-1-errors")
    page.fill("#f-email", "ada@example.com")
    page.fill("#f-last_name", "Lovelace")
    page.check("#f-terms")
    page.check("#f-personal_data")
    page.click("#continue")
    page.wait_for_url(re.compile(r"/pay/ord_"))


def test_a_phone_sized_screen_completes_a_purchase(client, shop, open_page):
    page = open_page(viewport={"width": 375, "height": 740})
    page.goto(link(client, shop))
    assert fits_the_screen(page)
    shot(page, "phone-0-checkout")
    fill_details(page)
    page.click("#continue")
    page.wait_for_url(re.compile(r"/pay/ord_"))
    expect(page.locator("#card-form")).to_be_visible()
    assert fits_the_screen(page)
    shot(page, "phone-1-payment")
    pay_by_card(page)
    expect(page.locator("#paid")).to_be_visible()
    assert fits_the_screen(page)


def test_german_locale_speaks_german_from_checkout_to_payment(client, shop, open_page):
    page = open_page(locale="en-US")       # the link's choice beats the browser's language
    page.goto(link(client, shop, locale="de"))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("#continue")).to_contain_text("Weiter zur Zahlung")
    fill_details(page, country="DE", consent=False)
    page.click("#continue")
    expect(page.locator("#e-terms")).to_contain_text("Verkaufsbedingungen")
    page.check("#f-terms")
    page.check("#f-personal_data")
    shot(page, "german-1-checkout")
    page.click("#continue")
    page.wait_for_url(re.compile(r"/pay/ord_"))
    expect(page.locator("label[for=card-number]")).to_have_text("Kartennummer")
    pay_by_card(page, DECLINED)
    expect(page.locator("#failure-message")).to_contain_text("abgelehnt")
    page.click("#retry")
    pay_by_card(page)
    expect(page.locator("#paid")).to_contain_text("Vielen Dank")
    order_id = re.search(r"/pay/(ord_\w+)", page.url).group(1)
    order = client.order(order_id, shop["merchant"]["api_key"])
    assert order["customer"]["locale"] == "de"
