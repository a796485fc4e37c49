"""The merchant dashboard (issue 16) in a real browser over the real processes: sign in, create a
product, give it a pool of keys, copy its checkout link, build a link, see a customer's order with
its payment, delivered key and webhooks, refund part of it; and, without a browser, that another
merchant's order and product answer 404 there (docs/dashboard.md)."""
from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tillkey.devtools.launcher import wait_until
from tillkey.testing.receiver import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def dashboard(platform):
    url = platform.config.url("dashboard")
    wait_until(lambda: requests.get(f"{url}/readyz", timeout=2).ok, 60, "the dashboard /readyz")
    return url


@pytest.fixture
def receiver():
    """The merchant's webhook endpoint: a real HTTP server that answers 200."""
    with Receiver() as r:
        yield r


def dashboard_user(platform, dashboard, merchant: dict, email: str) -> None:
    resp = requests.post(f"{dashboard}/admin/v1/merchant-users", timeout=10,
                         headers={"Authorization": f"Bearer {platform.config.admin_token}"},
                         json={"api_key": merchant["api_key"], "email": email, "password": PASSWORD,
                               "merchant_name": "Dash Software"})
    assert resp.status_code == 201, resp.text


def signed_in_session(dashboard: str, email: str) -> requests.Session:
    session = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', session.get(f"{dashboard}/login", timeout=10).text)
    resp = session.post(f"{dashboard}/login", timeout=10, allow_redirects=False,
                        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
    assert resp.status_code == 303, resp.text
    return session


def test_a_merchant_signs_in_creates_a_product_with_a_pool_copies_its_link_and_sees_an_order(
        platform, client, dashboard, open_page, receiver):
    merchant = client.new_merchant("Dash Software")
    dashboard_user(platform, dashboard, merchant, "owner@dash.example")
    client.new_endpoint(merchant["api_key"], f"{receiver.url}/hooks")
    page = open_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=dashboard)

    page.goto(f"{dashboard}/products")                       # signed out: the sign-in page, then back here
    page.fill("#email", "owner@dash.example")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    expect(page).to_have_url(re.compile(r"/products$"))
    expect(page.locator("#signed-in-as")).to_have_text("owner@dash.example")

    page.click("#new-product")
    page.fill("#name", "Dash Editor")
    page.fill("#currency_0", "EUR")
    page.fill("#amount_0", "49.00")
    page.fill("#currency_1", "JPY")
    page.fill("#amount_1", "7.5")                            # JPY has no decimals: refused, nothing created
    page.fill("#default_currency", "EUR")
    page.click("#save-product")
    expect(page.locator("#e-amount_1")).to_contain_text("JPY has 0 decimals")
    assert client.call("orders", "GET", "/v1/products", merchant["api_key"]).json()["data"] == []
    page.fill("#amount_1", "7800")
    page.click("#save-product")
    expect(page.locator("#saved")).to_have_text("Product created.")
    link = page.locator("#checkout-link").input_value()
    assert re.fullmatch(rf"{re.escape(client.urls['orders'])}/buy/prod_\w+", link), link
    page.click("button[data-copy=checkout-link]")
    expect(page.locator("button[data-copy=checkout-link]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == link
    shot(page, "dashboard-product")

    product_id = link.rsplit("/", 1)[1]
    product = client.call("orders", "GET", f"/v1/products/{product_id}", merchant["api_key"]).json()
    assert product["prices"] == {"EUR": 4900, "JPY": 7800} and product["active"] is True

    page.click("#use-pool")
    page.fill("#keys", "DASH-0001\nDASH-0002\n\nDASH-0003\nDASH-0001")
    page.click("#add-keys")
    expect(page.locator("#keys-added")).to_have_text("3 key(s) added, 1 already there.")
    expect(page.locator("#pool-available")).to_have_text("3")

    page.fill("#quantity", "2")
    page.select_option("#link-currency", "JPY")
    page.fill("#custom_key_0", "campaign")
    page.fill("#custom_value_0", "spring")
    page.click("#build-link")
    expect(page.locator("#built-link")).to_have_value(f"{link}?quantity=2&currency=JPY&custom%5Bcampaign%5D=spring")

    checkout = client.checkout(product_id, email="buyer@example.com")
    client.pay_when_ready(checkout)
    page.click("text=Orders")
    row = page.locator(f"[data-order-id={checkout['order_id']}]")
    expect(row).to_contain_text("buyer@example.com")
    row.locator("a").click()
    expect(page.locator("#order-lines")).to_contain_text("Dash Editor")
    expect(page.locator("#order-total")).to_contain_text("€49.00")
    expect(page.locator("#payments")).to_contain_text("card")
    wait_until(lambda: page.reload() and "DASH-000" in page.locator("#deliveries").inner_text()
               and "order.delivered" in page.locator("#webhooks").inner_text(), 30,
               "the delivered key and the webhooks on the order page", interval=1)
    expect(page.locator("#webhooks")).to_contain_text("payment.succeeded")
    shot(page, "dashboard-order")

    page.fill("#refund-amount", "10.00")
    page.fill("#refund-reason", "Customer asked for a partial refund")
    page.click("#refund-submit")
    expect(page.locator("#refund-started")).to_be_visible()
    wait_until(lambda: page.reload() and "€10.00 refunded" in page.locator("#order-total").inner_text(), 30,
               "the partial refund on the order page", interval=1)
    expect(page.locator("#payments")).to_contain_text("Refund €10.00")

    page.click("text=Developers")
    expect(page.locator("#endpoints")).to_contain_text(f"{receiver.url}/hooks")
    page.click("text=Rotate secret")
    expect(page.locator("#secret-note")).to_contain_text("For 24 hours")
    assert page.locator("#secret").input_value().startswith("whsec_")
    page.click("#delivery-log")
    first = page.locator("details[data-delivery-id]").filter(has_text="order.created")
    first.locator("summary").click()
    expect(first).to_contain_text(checkout["order_id"])            # the request body, as sent
    before = len(receiver.snapshot())
    first.locator("text=Send again").click()
    expect(page.locator("#redelivered")).to_be_visible()
    wait_until(lambda: len(receiver.snapshot()) > before, 30, "the redelivered webhook at the receiver")

    page.click("text=Home")
    expect(page.locator("#orders-total")).to_have_text("1")
    expect(page.locator("#revenue-total")).to_contain_text("€39.00")         # €49.00 less the €10.00 refund
    expect(page.locator("figure.chart svg")).to_have_count(2)
    expect(page.locator("#stock")).to_contain_text("2 in stock")
    shot(page, "dashboard-home")
    assert page.problems == []


def test_another_merchants_order_and_product_answer_404_in_the_dashboard(platform, client, dashboard):
    owner, intruder = client.new_merchant("Owner Software"), client.new_merchant("Intruder Software")
    dashboard_user(platform, dashboard, intruder, "intruder@other.example")
    product = client.new_product(owner["api_key"], name="Owner Editor", prices={"EUR": 1500})
    checkout = client.checkout(product["product_id"], email="victim@example.com")
    session = signed_in_session(dashboard, "intruder@other.example")

    for path in (f"/orders/{checkout['order_id']}", f"/products/{product['product_id']}"):
        resp = session.get(f"{dashboard}{path}", timeout=10)
        assert resp.status_code == 404, path
        assert "victim@example.com" not in resp.text and "Owner Editor" not in resp.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', session.get(f"{dashboard}/products/new").text).group(1)
    resp = session.post(f"{dashboard}/products/{product['product_id']}", timeout=10, allow_redirects=False,
                        data={"csrf_token": token, "name": "Taken over", "currency_0": "EUR", "amount_0": "1.00",
                              "default_currency": "EUR"})
    assert resp.status_code == 404
    assert client.call("orders", "GET", f"/v1/products/{product['product_id']}",
                       owner["api_key"]).json()["name"] == "Owner Editor"


def test_a_line_awaiting_the_merchant_is_delivered_by_hand_from_the_order_page(platform, client, dashboard):
    merchant = client.new_merchant("Hand Delivery Software")
    dashboard_user(platform, dashboard, merchant, "hands@dash.example")
    product = client.new_product(merchant["api_key"], name="Hand Editor", prices={"EUR": 1900})
    checkout = client.checkout(product["product_id"], email="waiting@example.com")
    client.pay_when_ready(checkout)
    session = signed_in_session(dashboard, "hands@dash.example")
    order_url = f"{dashboard}/orders/{checkout['order_id']}"
    page = wait_until(lambda: (html := session.get(order_url, timeout=10).text) and "Deliver these keys" in html
                      and html, 30, "the line awaiting the merchant")
    action = re.search(r'action="(/orders/[^"]+/licenses)"', page).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = session.post(f"{dashboard}{action}", data={"csrf_token": token, "keys": "HAND-0001"}, timeout=10,
                        allow_redirects=False)
    assert resp.status_code == 303, resp.text
    deliveries = client.call("fulfillment", "GET", f"/v1/orders/{checkout['order_id']}/deliveries",
                             merchant["api_key"]).json()["data"]
    assert [(d["status"], d["licenses"]) for d in deliveries] == [("delivered", ["HAND-0001"])]


def test_support_finds_an_unpaid_order_by_its_id_and_cancels_it_with_a_reason(platform, client, dashboard,
                                                                              open_page):
    merchant = client.new_merchant("Support Case Software")
    product = client.new_product(merchant["api_key"], name="Unpaid Editor", prices={"EUR": 2500})
    checkout = client.checkout(product["product_id"], email="late@example.com", payment_method="bank_transfer")
    page = open_page()
    page.goto(f"{dashboard}/support")
    page.fill("#name", "Sam Support")
    page.fill("#admin_token", platform.config.admin_token)
    page.click("#support-sign-in")
    page.fill("#q", checkout["order_id"])
    page.click("#find-order")
    expect(page.locator("#order-status")).to_contain_text("not paid")
    expect(page.locator("#order")).to_contain_text("late@example.com")
    page.fill("#cancel-reason", "The customer chose another plan")
    page.click("#cancel-submit")
    expect(page.locator("#done")).to_contain_text("cancel")
    expect(page.locator("#support-log")).to_contain_text("cancel by Sam Support: The customer chose another plan")
    wait_until(lambda: page.reload() and "canceled" in page.locator("#order-status").inner_text(), 30,
               "the canceled order on the support page", interval=1)
    order = client.call("orders", "GET", f"/v1/orders/{checkout['order_id']}", merchant["api_key"]).json()
    assert order["status"] == "canceled"
    assert page.problems == []


def test_a_coupon_made_in_the_dashboard_is_the_orders_apis_and_switches_off(platform, client, dashboard):
    merchant = client.new_merchant("Coupon Software")
    dashboard_user(platform, dashboard, merchant, "coupons@dash.example")
    product = client.new_product(merchant["api_key"], name="Coupon Editor", prices={"EUR": 4000})
    session = signed_in_session(dashboard, "coupons@dash.example")
    token = re.search(r'name="csrf_token" value="([^"]+)"', session.get(f"{dashboard}/coupons").text).group(1)
    made = session.post(f"{dashboard}/coupons", timeout=10, allow_redirects=False, data={
        "csrf_token": token, "code": "LAUNCH-25", "kind": "percent", "percent": "25",
        "product_id": product["product_id"], "max_redemptions": "10"})
    assert made.status_code == 303, made.text
    coupons = client.call("orders", "GET", "/v1/coupons", merchant["api_key"]).json()["data"]
    assert [(c["code"], c["percent_off"], c["product_ids"], c["max_redemptions"], c["active"]) for c in coupons] == [
        ("LAUNCH-25", 25, [product["product_id"]], 10, True)]
    cart = client.call("orders", "POST", "/v1/carts", expect=201, json={
        "lines": [{"product_id": product["product_id"], "quantity": 1}], "coupon": "LAUNCH-25"}).json()
    assert cart["total"] == 3000
    off = session.post(f"{dashboard}/coupons/LAUNCH-25/active", data={"csrf_token": token, "active": "false"},
                       timeout=10, allow_redirects=False)
    assert off.status_code == 303
    assert client.call("orders", "GET", "/v1/coupons", merchant["api_key"]).json()["data"][0]["active"] is False


def test_support_confirms_a_bank_transfer_that_arrived_and_the_order_is_paid(platform, client, dashboard):
    merchant = client.new_merchant("Transfer Software")
    product = client.new_product(merchant["api_key"], name="Transfer Editor", prices={"EUR": 3000})
    checkout = client.checkout(product["product_id"], email="bank@example.com", payment_method="bank_transfer")
    payment = client.pay_when_ready(checkout, method="bank_transfer")
    session = requests.Session()
    login = session.get(f"{dashboard}/support/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    assert session.post(f"{dashboard}/support/login", timeout=10, allow_redirects=False, data={
        "csrf_token": token, "name": "Sam Support", "admin_token": platform.config.admin_token}).status_code == 303
    page = session.get(f"{dashboard}/support/orders/{checkout['order_id']}", timeout=10).text
    assert payment["instructions"]["reference"] in page
    resp = session.post(f"{dashboard}/support/orders/{checkout['order_id']}/confirm/payment/{payment['payment_id']}",
                        data={"csrf_token": token, "reason": "statement 2026-11, line 4"}, timeout=10,
                        allow_redirects=False)
    assert resp.status_code == 303, resp.text
    wait_until(lambda: client.call("orders", "GET", f"/v1/orders/{checkout['order_id']}",
                                   merchant["api_key"]).json()["status"] == "paid", 30, "the order paid")


def test_api_keys_made_and_revoked_in_the_dashboard_are_refused_by_every_service(platform, client, dashboard,
                                                                                  open_page):
    from tillkey.testing.api_keys import merchant_reads, seconds_until_refused

    merchant = client.new_merchant("Keys Software")
    dashboard_user(platform, dashboard, merchant, "keys@dash.example")
    product = client.new_product(merchant["api_key"], name="Keys Editor", prices={"EUR": 1000})
    reads = merchant_reads(client.checkout(product["product_id"])["order_id"])
    page = open_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=dashboard)
    page.goto(f"{dashboard}/login")
    page.fill("#email", "keys@dash.example")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.click("nav >> text=API keys")
    expect(page.locator("#api-keys tbody tr")).to_have_count(1)           # the key the dashboard keeps
    page.fill("#name", "CI")
    page.click("#create-key")
    key = page.input_value("#api-key")                                    # shown this once, with a copy button
    page.click("button[data-copy='api-key']")
    assert page.evaluate("navigator.clipboard.readText()") == key
    for service, path in reads.items():
        wait_until(lambda s=service, p=path: client.call(s, "GET", p, key).status_code == 200, 20,
                   f"{service} to answer the new key")

    page.goto(f"{dashboard}/developers/api-keys")
    assert page.locator("#api-key").count() == 0 and key not in page.content()
    page.locator("#api-keys tr", has_text="CI").locator("text=Revoke…").click()
    page.click("#confirm-revoke")
    expect(page.locator("#changed")).to_contain_text("The key was revoked.")
    refused = seconds_until_refused(client, key, reads)
    assert set(refused) == set(reads) and max(refused.values()) < 10, refused

    # The key the dashboard itself calls with: it switches to a new one, then that one is refused too.
    page.locator("#api-keys tr", has_text="used by this dashboard").locator("text=Revoke…").click()
    expect(page.locator("#dashboard-key")).to_be_visible()
    page.click("#confirm-revoke")
    expect(page.locator("#changed")).to_contain_text("now uses a new key")
    expect(page.locator("#api-keys tr", has_text="used by this dashboard")).to_contain_text("dashboard")
    shot(page, "dashboard-api-keys")
    refused = seconds_until_refused(client, merchant["api_key"], reads)
    assert set(refused) == set(reads), refused
    page.goto(f"{dashboard}/orders")                                       # the dashboard still works
    expect(page.locator("h1")).to_be_visible()


def test_a_merchant_picks_each_license_source_and_makes_a_coupon_in_two_currencies_in_the_browser(
        platform, client, dashboard, open_page):
    merchant = client.new_merchant("Source Software")
    dashboard_user(platform, dashboard, merchant, "sources@dash.example")
    product = client.new_product(merchant["api_key"], name="Source Editor", prices={"EUR": 4000, "USD": 4500})
    source = f"/v1/products/{product['product_id']}/license-source"
    page = open_page()
    page.goto(f"{dashboard}/products/{product['product_id']}")
    page.fill("#email", "sources@dash.example")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    expect(page.locator(".dash-nav a[aria-current=page]")).to_have_text("Products")

    page.check("input[name=method][value=web_service]")     # a wrong secret: the API's refusal at its field
    page.fill("#src-url", "https://licenses.source.example/issue")
    page.fill("#src-secret", "not-a-secret")
    page.click("#set-source")
    expect(page.locator("#e-secret")).to_contain_text("whsec_")
    assert client.call("fulfillment", "GET", source, merchant["api_key"]).json()["configured"] is False
    page.fill("#src-secret", "")                             # none typed: one is made, shown this once
    page.click("#set-source")
    expect(page.locator("#source-secret")).to_have_value(re.compile(r"^whsec_"))
    kept = client.call("fulfillment", "GET", source, merchant["api_key"]).json()
    assert (kept["method"], kept["url"], "secret" in kept) == ("web_service", "https://licenses.source.example/issue",
                                                               False)

    page.check("input[name=method][value=generated]")
    page.fill("#src-prefix", "dash")
    page.fill("#src-activation-limit", "3")
    page.uncheck("#src-revoke")
    page.click("#set-source")
    expect(page.locator("#source-saved")).to_be_visible()
    expect(page.locator("#source-method")).to_have_text("keys made and signed by Tillkey")
    expect(page.locator("#public-key")).to_have_value(re.compile("BEGIN PUBLIC KEY"))
    kept = client.call("fulfillment", "GET", source, merchant["api_key"]).json()
    assert (kept["prefix"], kept["activation_limit"], kept["valid_days"], kept["revoke_on_refund"]) == (
        "DASH", 3, None, False)
    shot(page, "dashboard-license-source")

    page.click(".dash-nav >> text=Coupons")
    page.fill("#code", "TWO-CUR")
    page.check("input[name=kind][value=amount]")
    page.fill("#amount-0", "5")
    page.fill("#currency-0", "EUR")
    page.fill("#amount-1", "6.50")
    page.fill("#currency-1", "usd")
    page.check(f"input[name=product_id][value={product['product_id']}]")
    page.click("#create-coupon")
    expect(page.locator("#changed")).to_have_text("The coupon was created.")
    expect(page.locator("tr[data-code=TWO-CUR]")).to_contain_text("Source Editor")
    coupon = client.call("orders", "GET", "/v1/coupons", merchant["api_key"]).json()["data"][0]
    assert (coupon["amount_off"], coupon["product_ids"]) == ({"EUR": 500, "USD": 650}, [product["product_id"]])


def test_support_finds_an_unpaid_order_by_the_customers_email_and_cancels_it(platform, client, dashboard,
                                                                            open_page):
    import uuid
    email = f"unpaid-{uuid.uuid4().hex[:10]}@example.com"          # this test's customer only
    merchant = client.new_merchant("Email Case Software")
    other = client.new_merchant("Other Shop Software")
    product = client.new_product(merchant["api_key"], name="Unpaid Suite", prices={"EUR": 3500})
    elsewhere = client.new_product(other["api_key"], name="Other Suite", prices={"EUR": 1500})
    unpaid = client.checkout(product["product_id"], email=email, payment_method="bank_transfer")
    second = client.checkout(elsewhere["product_id"], email=email, payment_method="bank_transfer")
    page = open_page()
    page.goto(f"{dashboard}/support")
    page.fill("#name", "Sam Support")
    page.fill("#admin_token", platform.config.admin_token)
    page.click("#support-sign-in")
    page.fill("#q", email.upper())                      # as the customer wrote it on the phone
    page.click("#find-order")
    found = page.locator("#orders [data-order-id]")
    expect(found).to_have_count(2)                      # every merchant's orders of this customer, newest first
    expect(found.nth(0)).to_have_attribute("data-order-id", second["order_id"])
    row = page.locator(f"[data-order-id={unpaid['order_id']}]")
    expect(row).to_contain_text(merchant["merchant_id"])
    expect(row).to_contain_text("not paid")
    row.locator("a").click()
    expect(page.locator("#order")).to_contain_text(email)
    page.fill("#cancel-reason", "The customer asked by phone to cancel")
    page.click("#cancel-submit")
    expect(page.locator("#done")).to_contain_text("cancel")
    wait_until(lambda: page.reload() and "canceled" in page.locator("#order-status").inner_text(), 30,
               "the canceled order on the support page", interval=1)
    shot(page, "dashboard-support-by-email")
    assert client.call("orders", "GET", f"/v1/orders/{unpaid['order_id']}",
                       merchant["api_key"]).json()["status"] == "canceled"
    assert client.call("orders", "GET", f"/v1/orders/{second['order_id']}",
                       other["api_key"]).json()["status"] == "not_paid"           # the other merchant's: untouched
    assert page.problems == []


def test_send_test_event_reaches_the_merchants_endpoint_signed(platform, client, dashboard, open_page, receiver):
    from standardwebhooks import Webhook
    merchant = client.new_merchant("Ping Software")
    dashboard_user(platform, dashboard, merchant, "ping@dash.example")
    endpoint = client.new_endpoint(merchant["api_key"], f"{receiver.url}/hooks", events=["order.created"])
    page = open_page()
    page.goto(f"{dashboard}/developers/webhooks")
    page.fill("#email", "ping@dash.example")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.locator(f"[data-endpoint-id={endpoint['endpoint_id']}] [data-send-test-event]").click()
    expect(page.locator("#pinged")).to_be_visible()
    [hit] = receiver.wait_for(lambda hits: [h for h in hits if h.json().get("type") == "ping"] or None, timeout=30)
    body = Webhook(endpoint["secret"]).verify(hit.body, hit.headers)      # signed with the endpoint's secret
    assert body["sequence"] is None and body["data"] == {"endpoint_id": endpoint["endpoint_id"],
                                                         "url": f"{receiver.url}/hooks"}
    assert hit.headers["webhook-id"] == body["id"]
    wait_until(lambda: page.reload() and "succeeded" in page.locator("details[open]").inner_text(), 30,
               "the ping's attempt in the delivery log", interval=1)
    expect(page.locator("details[open]")).to_contain_text("ping")
    assert page.problems == []


def test_a_colleague_invited_by_link_signs_up_in_the_browser_and_is_removed_by_the_owner(
        platform, client, dashboard, open_page):
    merchant = client.new_merchant("Team Software")
    dashboard_user(platform, dashboard, merchant, "owner@team.example")
    client.new_product(merchant["api_key"], name="Team Editor", prices={"EUR": 2500})
    owner = open_page()
    owner.goto(f"{dashboard}/users")
    owner.fill("#email", "owner@team.example")
    owner.fill("#password", PASSWORD)
    owner.click("#sign-in")
    owner.fill("#invite-email", "Colleague@Team.example")
    owner.click("#invite-submit")
    link = owner.input_value("#invitation-link")              # shown this once, with the dashboard's own address
    assert link.startswith(f"{dashboard}/invitations/"), link

    colleague = open_page()
    colleague.goto(link)
    expect(colleague.locator("#invited-email")).to_have_text("colleague@team.example")
    colleague.fill("#password", "short")
    colleague.click("#accept-invitation")
    expect(colleague.locator("#e-password")).to_have_text("At least 12 characters.")
    colleague.fill("#password", "the colleague's own password")
    colleague.click("#accept-invitation")
    expect(colleague.locator("#signed-in-as")).to_have_text("colleague@team.example")
    colleague.goto(f"{dashboard}/products")                   # the same merchant's catalog, through its kept key
    expect(colleague.locator("#products")).to_contain_text("Team Editor")
    assert colleague.goto(link).status == 404                 # used up

    owner.goto(f"{dashboard}/users")
    owner.locator("tr", has_text="colleague@team.example").get_by_role("button", name="Remove").click()
    expect(owner.locator("#changed")).to_have_text("colleague@team.example was removed and signed out.")
    colleague.goto(f"{dashboard}/products")                   # signed out at the next request
    expect(colleague).to_have_url(re.compile(r"/login"))
    shot(owner, "dashboard-users-after-removal")


def test_support_sees_a_dead_letter_and_replays_it_with_a_reason_in_the_browser(platform, dashboard, open_page):
    import pika

    # A message no consumer can read (not JSON): each service bound to order.created dead-letters it.
    connection = pika.BlockingConnection(pika.URLParameters(platform.config.amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish("tillkey.events", "order.created", b"not json", pika.BasicProperties(
            content_type="application/json", delivery_mode=2, message_id="evt_BrowserPoison1", type="order.created"),
            mandatory=True)

        def dead() -> int:
            return channel.queue_declare("webhooks.events.dead", passive=True).method.message_count

        wait_until(lambda: dead() == 1, 60, "the poison message dead-lettered by webhooks")
    finally:
        connection.close()
    page = open_page()
    page.goto(f"{dashboard}/support/login")
    page.fill("#name", "Sam Support")
    page.fill("#admin_token", platform.config.admin_token)
    page.click("#support-sign-in")
    page.click("#nav-dead-letters")
    expect(page.locator('tr[data-service="webhooks"] .count')).to_have_text("1")
    page.click('tr[data-service="webhooks"] a')
    page.click('tr[data-message-id="evt_BrowserPoison1"] a')
    expect(page.locator("#letter-reason")).to_contain_text("invalid")
    page.fill("#replay-reason", "checking the replay path")
    page.click("#replay-submit")
    expect(page.locator("#done")).to_contain_text("1 message(s) replayed")
    page.click("#nav-dead-letters")
    expect(page.locator("#replay-log")).to_contain_text(
        "webhooks: evt_BrowserPoison1 by Sam Support: checking the replay path")
    shot(page, "support-dead-letters")
