"""GET /pay/{order_id}?token=… — the server-rendered payment page in each of its states."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tillkey.contracts import load_sample
from tillkey.payments.domain.model import Payment
from tillkey.platform import credentials
from tillkey.testing.messaging import sample_envelope

from .conftest import SECRET

pytestmark = pytest.mark.integration
ORDER = "ord_3Hq8ZrW2mNp5"
PAGE = f"/pay/{ORDER}"
TOKEN = {"token": credentials.make_order_token(SECRET, ORDER)}


def state(resp) -> str:
    return re.search(r'data-state="([a-z]+)"', resp.get_data(as_text=True)).group(1)


@pytest.fixture
def order(service):
    service.dispatcher(sample_envelope("order.created"))
    return ORDER


def add_attempt(service, status: str, **fields):
    with service.uow_factory() as uow:
        at = service.deps.clock.now() + timedelta(seconds=5)
        order = uow.orders.get(ORDER)
        order.payments.append(Payment("pay_t1", ORDER, "card", status, 8820, "EUR", at, at, **fields))
        uow.commit()


@pytest.mark.parametrize("query", [{}, {"token": "nonsense"},
                                   {"token": credentials.make_order_token(SECRET, "ord_other1")}])
def test_a_wrong_token_is_a_404_page(client, order, query):
    resp = client.get(PAGE, query_string=query)
    assert resp.status_code == 404 and resp.mimetype == "text/html"
    assert "not valid" in resp.get_data(as_text=True) and "88.20" not in resp.get_data(as_text=True)


def test_an_order_not_known_yet_shows_a_self_refreshing_preparing_page(client):
    resp = client.get(PAGE, query_string=TOKEN)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="1">' in html and "Preparing" in html


def test_the_page_shows_the_amount_the_methods_and_a_card_form_that_cannot_post_card_data(client, order):
    resp = client.get(PAGE, query_string=TOKEN)
    assert resp.status_code == 200 and state(resp) == "choose"
    html = resp.get_data(as_text=True)
    assert "€88.20" in html and "Credit or debit card" in html and "Bank transfer" in html
    assert 'value="card"\n             checked' in html or re.search(r'value="card"\s+checked', html)
    form = html[html.index('<form id="card-form"'):html.index("</form>")]
    assert "action=" not in form and not re.search(r"<input[^>]*\bname=", form)  # no card field can be submitted
    assert 'data-sandbox-url="http://127.0.0.1:8009"' in html
    assert re.search(r'<script src="/pay/static/pay\.js"', html) and "cdn" not in html.lower()
    csp = resp.headers["Content-Security-Policy"]
    assert "connect-src 'self' http://127.0.0.1:8009" in csp and "form-action 'none'" in csp
    assert "script-src 'self'" in csp
    assert resp.headers["Referrer-Policy"] == "no-referrer" and resp.headers["Cache-Control"] == "no-store"


def test_the_script_is_served_by_payments(client):
    resp = client.get("/pay/static/pay.js")
    assert resp.status_code == 200 and "javascript" in resp.mimetype
    js = resp.get_data(as_text=True)
    assert "/v1/tokens" in js and "Idempotency-Key" in js and "order_not_ready" in js


def test_a_bank_transfer_attempt_shows_its_instructions(client, order):
    made = client.post(f"/v1/orders/{ORDER}/payments", query_string=TOKEN, json={"method": "bank_transfer"})
    reference = made.get_json()["instructions"]["reference"]
    resp = client.get(PAGE, query_string=TOKEN)
    assert state(resp) == "instructions"
    html = resp.get_data(as_text=True)
    assert reference in html and "DE89370400440532013000" in html and "COBADEFFXXX" in html


def test_a_failed_attempt_shows_its_message_and_a_way_to_retry(client, service, order):
    add_attempt(service, "failed", failure_code="card_declined", failure_message="Your card was declined.")
    resp = client.get(PAGE, query_string=TOKEN)
    assert state(resp) == "failed"
    assert "Your card was declined." in resp.get_data(as_text=True) and 'id="retry"' in resp.get_data(as_text=True)


def test_a_pending_attempt_shows_the_pending_state(client, service, order):
    add_attempt(service, "pending")
    assert state(client.get(PAGE, query_string=TOKEN)) == "pending"


def test_a_paid_order_shows_success_with_a_link_to_the_order_page(client, service):
    service.dispatcher(sample_envelope("order.created", total=0, discount=9800))
    resp = client.get(PAGE, query_string=TOKEN)
    assert state(resp) == "paid"
    assert f"http://127.0.0.1:8001/orders/{ORDER}?token={TOKEN['token']}" in resp.get_data(as_text=True)


def test_canceled_and_deleted_orders(client, service, order):
    service.dispatcher(sample_envelope("order.canceled"))
    assert state(client.get(PAGE, query_string=TOKEN)) == "closed"
    with service.uow_factory() as uow:
        uow.orders.get(ORDER).status = "deleted"
        uow.commit()
    resp = client.get(PAGE, query_string=TOKEN)
    assert resp.status_code == 410 and "expired" in resp.get_data(as_text=True)


def test_the_page_speaks_german_when_asked_and_serves_the_shared_look(client, service, order):
    add_attempt(service, "failed", failure_code="card_declined", failure_message="Your card was declined.")
    resp = client.get(PAGE, query_string={**TOKEN, "locale": "de"}, headers={"Accept-Language": "en"})
    html = resp.get_data(as_text=True)
    assert '<html lang="de">' in html and "Ihre Karte wurde abgelehnt" in html and "Erneut versuchen" in html
    assert "Kartennummer" in html and '"card_declined": "Ihre Karte wurde abgelehnt' in html   # for pay.js
    # Without ?locale the language the customer checked out in (the order's "en") beats the browser's.
    by_browser = client.get(PAGE, query_string=TOKEN, headers={"Accept-Language": "de-AT,de;q=0.9"})
    assert '<html lang="en">' in by_browser.get_data(as_text=True)
    css = re.search(r'href="(/assets/tillkey\.css\?v=\w+)"', html).group(1)
    assert client.get(css).status_code == 200 and "style-src 'self'" in resp.headers["Content-Security-Policy"]


def test_every_text_of_the_page_and_its_script_has_a_german_translation():
    from pathlib import Path

    from tillkey.payments.entrypoints import pages
    from tillkey.payments.entrypoints.pay_texts import FAILURES, SCRIPT_TEXTS, TEXTS
    from tillkey.platform.web.i18n import SHARED
    folder = Path(pages.__file__).parent
    used = {m.group(2) for path in (folder / "templates").glob("*.html")
            for m in re.finditer(r"""_\((["'])(.+?)\1""", path.read_text())}
    script = (folder / "static" / "pay.js").read_text()
    used |= set(SCRIPT_TEXTS) | set(FAILURES.values()) | {"Credit or debit card", "Bank transfer"}
    assert {m.group(1) for m in re.finditer(r't\("([^"]+)"\)', script)} <= set(SCRIPT_TEXTS)
    assert sorted(used - {**SHARED["de"], **TEXTS["de"]}.keys()) == []


def test_without_a_locale_in_the_link_the_page_speaks_the_language_of_the_checkout(client, service):
    customer = {**load_sample("order.created")["data"]["customer"], "locale": "de"}
    service.dispatcher(sample_envelope("order.created", customer=customer))
    german = client.get(PAGE, query_string=TOKEN, headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    english = client.get(PAGE, query_string={**TOKEN, "locale": "en"}).get_data(as_text=True)
    assert '<html lang="de">' in german and '<html lang="en">' in english


def test_an_order_without_a_locale_follows_the_browser(client, service):
    other = "ord_NoLocale1"
    customer = {**load_sample("order.created")["data"]["customer"], "locale": None}
    service.dispatcher(sample_envelope("order.created", new_id=True, order_id=other, customer=customer))
    resp = client.get(f"/pay/{other}", query_string={"token": credentials.make_order_token(SECRET, other)},
                      headers={"Accept-Language": "de-AT,de;q=0.9"})
    assert '<html lang="de">' in resp.get_data(as_text=True)
