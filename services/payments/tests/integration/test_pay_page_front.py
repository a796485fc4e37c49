"""The payment page as a shopper meets it: what is being bought, the method chosen at checkout
open, bank details read as printed, money in the page's language, test mode said plainly."""
from __future__ import annotations

import re

import pytest

from tillkey.payments.sandbox.cards import TEST_CARD_NOTES
from tillkey.testing.messaging import sample_envelope

from .test_pay_page import PAGE, TOKEN, state

pytestmark = pytest.mark.integration
NBSP = "\u00a0"


def page(client, **query) -> str:
    return client.get(PAGE, query_string={**TOKEN, **query}).get_data(as_text=True)


def test_the_page_lists_what_is_bought_and_the_total(client, service):
    service.dispatcher(sample_envelope("order.created"))
    html = page(client)
    lines = html[html.index('id="summary-lines"'):html.index("</ul>", html.index('id="summary-lines"'))]
    assert "Pro Editor" in lines and "Quantity: 2" in lines and "€88.20" in lines
    assert re.search(r'id="discount">−€9.80<', html) and "(SPRING)" in html
    assert re.search(r'id="amount">€88.20<', html)


def test_money_is_written_as_the_pages_language_writes_it(client, service):
    service.dispatcher(sample_envelope("order.created"))
    assert f"88,20{NBSP}€" in page(client, locale="de") and f"88,20{NBSP}€ bezahlen" in page(client, locale="de")


def test_the_method_chosen_at_checkout_is_open_and_the_others_one_click_away(client, service):
    service.dispatcher(sample_envelope("order.created"))      # chose card
    html = page(client)
    assert re.search(r'<form id="card-form"[^>]*novalidate\s*>', html)   # open, not hidden
    assert re.search(r'<div id="bank-choice"[^>]*hidden', html)
    assert '<fieldset id="method-picker" hidden>' in html and 'id="change-method"' in html
    assert "data-autostart" not in html


def test_bank_transfer_chosen_at_checkout_fetches_the_details_at_once(client, service):
    service.dispatcher(sample_envelope("order.created", payment_method="bank_transfer"))
    html = page(client)
    assert state(client.get(PAGE, query_string=TOKEN)) == "choose" and 'data-autostart="bank_transfer"' in html
    client.post(PAGE.replace("/pay/", "/v1/orders/") + "/payments", query_string=TOKEN,
                json={"method": "bank_transfer"})
    html = page(client, locale="de")
    assert "data-autostart" not in html                      # the attempt exists: the page shows it
    assert ">DE89 3704 0044 0532 0130 00<" in html and 'data-copy-text="DE89370400440532013000"' in html
    assert re.search(r'id="bt-due-date">\d{1,2}\. \w+ 20\d\d<', html)
    assert "Tillkey nimmt Zahlungen für" in html


def test_the_sandbox_gateway_means_test_mode_with_its_cards_listed(client, service):
    service.dispatcher(sample_envelope("order.created"))
    html = page(client)
    notice = html[html.index('id="test-mode"'):html.index("</aside>")]
    assert "Test mode" in notice and "4242 4242 4242 4242" in notice and "4000 0000 0000 0002" in notice
    assert all(note in notice for note in TEST_CARD_NOTES.values())
    assert "Testmodus" in page(client, locale="de")


def test_the_front_door_and_the_favicon(client):
    home = client.get("/", headers={"Accept-Language": "de"})
    assert home.status_code == 200 and home.mimetype == "text/html" and "Tillkey-Zahlungen" in home.get_data(True)
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/vnd.microsoft.icon" and icon.data[:4] == b"\0\0\1\0"
