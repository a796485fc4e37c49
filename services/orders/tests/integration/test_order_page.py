"""The customer's order page `/orders/{order_id}?token=…`: what it shows, resend, and who gets 404."""
import json
from html.parser import HTMLParser
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.integration


class Page(HTMLParser):
    """Element ids, form actions, inputs' values and link targets of a page."""

    def __init__(self, html: str):
        super().__init__()
        self.ids, self.forms, self.values, self.links, self.scripts = set(), [], [], [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "form":
            self.forms.append((a.get("method"), a.get("action")))
        if tag == "input" and "value" in a:
            self.values.append(a["value"])
        if tag == "a":
            self.links.append(a.get("href"))
        if tag == "script":
            self.scripts.append(a.get("src"))


def page_url(checkout):
    return f"/orders/{checkout['order_id']}?token={quote(checkout['order_token'])}"


def test_unpaid_order_links_to_the_payment_page(client, place_order):
    checkout = place_order((2,))
    resp = client.get(page_url(checkout))
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert resp.headers["Cache-Control"] == "no-store" and resp.headers["Referrer-Policy"] == "no-referrer"
    page = Page(resp.get_data(as_text=True))
    assert checkout["payment_url"] + "&locale=en" in page.links and "pay" in page.ids   # the page's language
    assert "resend" not in page.ids
    assert [src.split("?")[0] for src in page.scripts] == ["/assets/tillkey.js"]    # our own: nothing from a CDN
    assert client.get(page.scripts[0]).status_code == 200
    assert "€98.00" in resp.get_data(as_text=True)


def test_paid_order_shows_each_line_and_its_licenses(client, place_order, pay, deliver):
    checkout = place_order((1, 2))
    order = checkout["order"]
    pay(order)
    first, second = order["lines"]
    deliver("product.delivered", order_id=order["order_id"], merchant_id=order["merchant_id"],
            line_id=second["line_id"], product_id=second["product_id"], quantity=2,
            licenses=["KEY-<b>1</b>", "KEY-2"])
    deliver("license.requested", order_id=order["order_id"], merchant_id=order["merchant_id"],
            line_id=first["line_id"], product_id=first["product_id"], quantity=1)
    resp = client.get(page_url(checkout))
    html = resp.get_data(as_text=True)
    page = Page(html)
    assert resp.status_code == 200 and "pay" not in page.ids
    assert {"KEY-<b>1</b>", "KEY-2"} <= set(page.values)                # copyable fields, escaped in the HTML
    assert "<b>1</b>" not in html and "KEY-&lt;b&gt;1&lt;/b&gt;" in html
    assert "preparing your license" in html                               # the line waiting for the merchant
    assert ("post", page_url(checkout)) in page.forms


def test_resend_button_posts_back_then_redirects(client, db, place_order, pay, deliver):
    checkout = place_order()
    order = checkout["order"]
    pay(order)
    line = order["lines"][0]
    deliver("product.delivered", order_id=order["order_id"], merchant_id=order["merchant_id"], line_id=line["line_id"],
            product_id=line["product_id"], quantity=1, licenses=["K-9"])
    resp = client.post(page_url(checkout))
    assert resp.status_code == 303 and resp.headers["Location"] == page_url(checkout) + "&resent=1"
    shown = client.get(resp.headers["Location"])
    assert "notice" in Page(shown.get_data(as_text=True)).ids
    again = client.post(page_url(checkout))
    assert again.status_code == 429 and "problem" in Page(again.get_data(as_text=True)).ids
    events = [json.loads(b)["data"] for b in db.outbox("order.licenses_resend_requested")]
    assert len(events) == 1 and events[0]["lines"][0]["licenses"] == ["K-9"]


def test_wrong_token_or_deleted_order_is_a_404_page(client, settings, clock, admin, place_order):
    checkout, other = place_order(), place_order()
    oid = checkout["order_id"]
    for url in (f"/orders/{oid}", f"/orders/{oid}?token=nope", f"/orders/{oid}?token={quote(other['order_token'])}",
                f"/orders/ord_nope?token={quote(checkout['order_token'])}"):
        resp = client.get(url)
        assert resp.status_code == 404 and resp.mimetype == "text/html", url
        assert client.post(url).status_code == 404
    from tillkey.orders.bootstrap import bootstrap
    from tillkey.orders.service_layer.lifecycle import DeleteExpiredOrders
    service = bootstrap(settings, clock=clock)
    clock.advance(days=2)
    assert service.handle(DeleteExpiredOrders(ttl=86400)) == 2
    assert client.get(page_url(checkout)).status_code == 404
    assert client.get(f"/v1/orders/{oid}", headers=admin).json["status"] == "deleted"
    service.engine.dispose()
