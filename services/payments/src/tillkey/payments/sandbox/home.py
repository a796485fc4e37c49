"""`GET /` of the sandbox gateway: a page saying what it is and listing its test cards, for
whoever opens it in a browser (the README and the payment page's test-mode notice point here)."""
from __future__ import annotations

from flask import Blueprint, render_template

from tillkey.payments.sandbox.cards import TEST_CARD_NOTES
from tillkey.platform.formatting import in_fours
from tillkey.platform.web import Translator, asset_url, page_headers

bp = Blueprint("sandbox_home", __name__, template_folder="templates")


@bp.get("/")
def home():
    cards = [(in_fours(number), note) for number, note in TEST_CARD_NOTES.items()]
    html = render_template("sandbox_home.html", _=Translator("en"), asset_url=asset_url, cards=cards,
                           page_class="narrow", merchant_name="Tillkey sandbox gateway")
    return html, 200, page_headers()
