"""The customer's pages in a real browser, against the real processes: checkout link → checkout
page → payment page → order page and the emails, in English and German, on a desktop and a
375 px phone. Each point of issue 14 is checked where a shopper meets it; the screenshots in
artifacts/screenshots/ show it."""
from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, shot

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

GOOD, DECLINED = "4242424242424242", "4000000000000002"
NBSP = "\u00a0"
TERMS, PRIVACY = "https://acme.example/terms", "https://acme.example/privacy"
# What each language writes (amounts are CLDR's, with its no-break space).
WORDS = {
    "en": {"total_2": "€98.00", "total_1": "€49.00", "terms": "terms of sale", "privacy": "privacy notice",
           "test_mode": "Test mode", "pay": "Pay €98.00", "paid": "Thank you", "keys": "License keys",
           "key": "License key", "hint": "Order status", "date": r"[A-Z][a-z]+ \d{1,2}, 20\d\d",
           "licenses_subject": "Your licenses for Pro Editor",
           "collects": "Tillkey collects payments for Acme Software",
           "discount": "−€4.90", "coupon_total": "€44.10", "front": "Tillkey checkout", "declined": "declined"},
    "de": {"total_2": f"98,00{NBSP}€", "total_1": f"49,00{NBSP}€", "terms": "Verkaufsbedingungen",
           "privacy": "Datenschutzerklärung", "test_mode": "Testmodus", "pay": f"98,00{NBSP}€ bezahlen",
           "paid": "Vielen Dank", "keys": "Lizenzschlüssel", "key": "Lizenzschlüssel", "hint": "Bestellstatus",
           "date": r"\d{1,2}\. [A-ZÄÖÜ][a-zäöü]+ 20\d\d", "licenses_subject": "Ihre Lizenzen für Pro Editor",
           "collects": "Tillkey nimmt Zahlungen für Acme Software entgegen", "discount": f"−4,90{NBSP}€",
           "coupon_total": f"44,10{NBSP}€", "front": "Tillkey-Checkout", "declined": "abgelehnt"},
}
SCREENS = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture
def shop(client):
    """A merchant with terms and privacy links, a pool-delivered product and keys in the pool."""
    merchant = client.new_merchant("Acme Software")
    client.call("orders", "PATCH", "/v1/merchants/me", merchant["api_key"], expect=200,
                json={"terms_url": TERMS, "privacy_url": PRIVACY})
    product = client.new_product(merchant["api_key"], name="Pro Editor", prices={"EUR": 4900})
    client.call("fulfillment", "PUT", f"/v1/products/{product['product_id']}/license-source", merchant["api_key"],
                json={"method": "pool"}, expect=200)
    keys = [f"PRO-{uuid.uuid4().hex[:12].upper()}" for _ in range(4)]
    client.call("fulfillment", "POST", f"/v1/products/{product['product_id']}/licenses", merchant["api_key"],
                json={"keys": keys}, expect=201)
    return {"merchant": merchant, "product": product, "keys": keys}


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


def one_line(page, selector: str) -> bool:
    """The element's text is laid out on a single line (a price split over two would not be)."""
    return page.evaluate("""sel => { const r = document.createRange();
        r.selectNodeContents(document.querySelector(sel));
        const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top))); return tops.size === 1; }""",
                         selector)


def wait_for_mails(platform, to: str, count: int, timeout: float = 45) -> list:
    deadline = time.monotonic() + timeout
    while True:
        mails = [m for m in platform.mails() if m["To"] == to]
        if len(mails) >= count or time.monotonic() > deadline:
            return mails
        time.sleep(0.5)


@pytest.mark.parametrize("screen", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["en", "de"])
def test_a_purchase_from_the_link_to_the_licenses(client, shop, open_page, platform, lang, screen):
    w, name = WORDS[lang], f"purchase-{lang}-{screen}"
    email = f"ada+{lang}-{screen}@example.com"
    page = open_page(viewport=SCREENS[screen], locale="en-US")     # the link's locale beats the browser's
    page.goto(link(client, shop, quantity=2, locale=lang))
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("#total")).to_have_text(w["total_2"])
    # The consents link to the merchant's pages, in a new tab.
    for label, url, text in (("#f-terms", TERMS, w["terms"]), ("#f-personal_data", PRIVACY, w["privacy"])):
        anchor = page.locator(f"label[for={label[1:]}] a")
        expect(anchor).to_have_attribute("href", url)
        expect(anchor).to_have_attribute("target", "_blank")
        expect(anchor).to_have_text(text)
    assert fits_the_screen(page) and one_line(page, "#continue .nowrap"), "the price on the button wraps"
    shot(page, f"{name}-1-checkout")

    # Missing last name and consents: errors at their fields.
    fill_details(page, email=email, last="", consent=False)
    page.click("#continue")
    for field in ("last_name", "terms", "personal_data"):
        expect(page.locator(f"#e-{field}")).to_be_visible()
    shot(page, f"{name}-2-errors")
    # Fixing a field clears its error at once; a resubmit shows only what is still wrong.
    page.fill("#f-last_name", "Lovelace")
    expect(page.locator("#e-last_name")).to_be_hidden()
    expect(page.locator("#f-last_name")).not_to_have_attribute("aria-invalid", "true")
    page.check("#f-terms")
    page.click("#continue")
    expect(page.locator("#e-personal_data")).to_be_visible()
    expect(page.locator("#e-last_name")).to_have_count(0)
    expect(page.locator("#e-terms")).to_have_count(0)
    expect(page.locator("#error-summary li")).to_have_count(1)
    shot(page, f"{name}-3-one-error-left")
    page.check("#f-personal_data")
    page.click("#continue")

    # The payment page: what is bought, test mode with the cards, the card form open.
    page.wait_for_url(re.compile(r"/pay/ord_"))
    expect(page.locator("#summary-lines")).to_contain_text("Pro Editor")
    expect(page.locator("#amount")).to_have_text(w["total_2"])
    expect(page.locator("#test-mode")).to_contain_text(w["test_mode"])
    expect(page.locator("#test-mode")).to_contain_text("4242 4242 4242 4242")
    expect(page.locator("#card-form")).to_be_visible()
    expect(page.locator("#method-picker")).to_be_hidden()
    expect(page.locator("#pay-card")).to_have_text(w["pay"])
    assert one_line(page, "#pay-card"), "the pay button's label wraps"
    assert fits_the_screen(page)
    shot(page, f"{name}-4-payment")
    page.click("#change-method")                                  # a way to switch, when wanted
    expect(page.locator("#method-picker")).to_be_visible()
    expect(page.locator("input[name=method][value=card]")).to_be_checked()
    pay_by_card(page)
    expect(page.locator("#paid")).to_contain_text(w["paid"])
    assert fits_the_screen(page)
    shot(page, f"{name}-5-paid")

    # The order page: keys under a caption, the page named for what it is, dates in the language.
    page.click("#order-link")
    page.wait_for_url(re.compile(r"/orders/ord_"))
    keys = page.locator("input.key")
    deadline = time.monotonic() + 45
    while keys.count() < 2 and time.monotonic() < deadline:       # fulfillment is asynchronous
        page.wait_for_timeout(500)
        page.reload()
    expect(keys).to_have_count(2)
    expect(page.locator(".key-caption")).to_have_text(w["keys"])
    expect(page.locator("#topbar-hint")).to_have_text(w["hint"])
    expect(page.locator("main")).to_contain_text(re.compile(w["date"]))
    expect(page.locator("#total")).to_have_text(w["total_2"])
    # One rule above the total: the last line has no border of its own.
    assert page.evaluate("getComputedStyle(document.querySelector('#lines > .line:last-child')).borderBottomWidth")\
        == "0px"
    assert fits_the_screen(page)
    assert page.problems == [], page.problems                     # favicon and every asset found
    shot(page, f"{name}-6-order")

    # The emails: money as the language writes it; the license subject counts the keys.
    mails = wait_for_mails(platform, email, 2)
    subjects = [m["Subject"] for m in mails]
    assert any(s.startswith(w["licenses_subject"]) for s in subjects), subjects
    bodies = " ".join(m.get_body(("plain",)).get_content() for m in mails)
    assert w["total_2"] in bodies, bodies


@pytest.mark.parametrize(("lang", "screen"), [("en", "desktop"), ("de", "phone")])
def test_bank_transfer_details_show_at_once_and_read_as_printed(client, shop, open_page, lang, screen):
    w = WORDS[lang]
    page = open_page(viewport=SCREENS[screen])
    page.goto(link(client, shop, locale=lang))
    fill_details(page, method="bank_transfer")
    page.click("#continue")
    expect(page.locator("#instructions")).to_be_visible()        # no second click for the details
    expect(page.locator("#bt-amount")).to_have_text(w["total_1"])
    expect(page.locator("#bt-iban")).to_have_text("DE89 3704 0044 0532 0130 00")
    expect(page.locator("#copy-iban")).to_have_attribute("data-copy-text", "DE89370400440532013000")
    expect(page.locator("#bt-collects")).to_contain_text(w["collects"])
    expect(page.locator("#bt-due-date")).to_have_text(re.compile(w["date"]))
    order_id = re.search(r"/pay/(ord_\w+)", page.url).group(1)
    token = re.search(r"token=([^&]+)", page.url).group(1)
    [attempt] = client.call("payments", "GET", f"/v1/orders/{order_id}/payments", params={"token": token},
                            expect=200).json()["data"]
    expect(page.locator("#bt-reference")).to_have_text(attempt["instructions"]["reference"])
    # The emailed-notice stands apart from the button below it.
    gap = page.evaluate("""() => document.querySelector('#switch-method').getBoundingClientRect().top
                              - document.querySelector('#bt-emailed').getBoundingClientRect().bottom""")
    assert gap >= 12, gap
    assert fits_the_screen(page)
    shot(page, f"bank-{lang}-{screen}-instructions")
    by_script = page.locator("#bt-due-date").inner_text()
    page.reload()                                                  # the server shows the same, formatted alike
    expect(page.locator("#bt-iban")).to_have_text("DE89 3704 0044 0532 0130 00")
    expect(page.locator("#bt-due-date")).to_have_text(by_script)   # browser's CLDR and Babel's agree
    expect(page.locator("#bt-amount")).to_have_text(w["total_1"])
    assert page.problems == [], page.problems


@pytest.mark.parametrize("lang", ["en", "de"])
def test_a_declined_card_then_another_way_to_pay(client, shop, open_page, lang):
    w = WORDS[lang]
    page = open_page()
    page.goto(link(client, shop, locale=lang))
    fill_details(page)
    page.click("#continue")
    pay_by_card(page, DECLINED)
    expect(page.locator("#failure-message")).to_contain_text(w["declined"])
    shot(page, f"declined-{lang}-1-failed")
    page.click("#other-method")
    expect(page.locator("#method-picker")).to_be_visible()
    expect(page.locator("input[name=method][value=bank_transfer]")).to_be_checked()
    page.click("#pay-bank")
    expect(page.locator("#instructions")).to_be_visible()
    shot(page, f"declined-{lang}-2-bank-instead")
    page.click("#switch-method")
    page.locator("input[name=method][value=card]").check()
    pay_by_card(page)
    expect(page.locator("#paid")).to_contain_text(w["paid"])


@pytest.mark.parametrize(("lang", "screen"), [("en", "phone"), ("de", "desktop")])
def test_a_coupon_shows_the_discount_in_the_pages_language(client, shop, open_page, lang, screen):
    w = WORDS[lang]
    client.call("orders", "POST", "/v1/coupons", shop["merchant"]["api_key"], expect=201,
                json={"code": f"SPRING{lang.upper()}{screen[0]}", "percent_off": 10})
    page = open_page(viewport=SCREENS[screen])
    page.goto(link(client, shop, locale=lang))
    page.fill("#f-email", "typed.before@example.com")
    page.fill("#f-coupon", f"spring{lang}{screen[0]}")
    page.click("button[value=apply_coupon]")
    expect(page.locator("#discount")).to_have_text(w["discount"])
    expect(page.locator("#total")).to_have_text(w["coupon_total"])
    expect(page.locator("#f-email")).to_have_value("typed.before@example.com")   # nothing typed is lost
    assert fits_the_screen(page)


@pytest.mark.parametrize(("lang", "screen"), [("en", "desktop"), ("de", "phone")])
def test_the_front_doors_and_the_sandbox_test_cards(client, open_page, lang, screen):
    page = open_page(viewport=SCREENS[screen], locale={"en": "en-US", "de": "de-DE"}[lang])
    page.goto(client.urls["orders"] + "/")
    expect(page.locator("h1")).to_have_text(WORDS[lang]["front"])
    shot(page, f"front-{lang}-{screen}-orders")
    page.goto(client.urls["payments"] + "/")
    expect(page.locator("#front-door")).to_be_visible()
    page.goto(client.urls["sandbox"] + "/")
    expect(page.locator("#test-cards")).to_contain_text("4000 0000 0000 0002")
    assert fits_the_screen(page)
    shot(page, f"front-{lang}-{screen}-sandbox")
    assert page.problems == [], page.problems
