"""`GET /` of the sandbox: a page saying what it is and listing the test cards (not a JSON 404)."""
from __future__ import annotations

import requests

from tillkey.payments.sandbox.cards import TEST_CARD_NOTES, TEST_CARDS
from tillkey.platform.formatting import in_fours


def test_the_sandbox_describes_itself_and_its_test_cards(sandbox):
    resp = requests.get(sandbox.url + "/", timeout=5)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/html")
    assert "sandbox gateway" in resp.text and "No real card is ever charged" in resp.text
    for number, note in TEST_CARD_NOTES.items():
        assert in_fours(number) in resp.text and note in resp.text
    assert set(TEST_CARD_NOTES) == set(TEST_CARDS)      # every scripted card is described
    css = requests.get(sandbox.url + "/assets/tillkey.css", timeout=5)
    icon = requests.get(sandbox.url + "/favicon.ico", timeout=5)
    assert css.ok and icon.ok
