"""`GET /` of a service that customers' browsers reach: a small page saying what this is and
where to go, instead of a JSON 404 for whoever types the bare host into a browser."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from tillkey.platform.web.assets import asset_url
from tillkey.platform.web.i18n import Translator, negotiate_locale
from tillkey.platform.web.security import page_headers

FRONT_DOOR_TEXTS = {
    "de": {
        "Tillkey checkout": "Tillkey-Checkout",
        "Tillkey payments": "Tillkey-Zahlungen",
        "Customers reach the checkout through a product's checkout link ({example}); there is nothing "
        "to see here without one.":
            "Kunden erreichen den Checkout über den Checkout-Link eines Produkts ({example}); ohne einen "
            "solchen Link gibt es hier nichts zu sehen.",
        "Customers reach the payment page from the checkout or from a link in their email.":
            "Kunden erreichen die Zahlungsseite über den Checkout oder einen Link in ihrer E-Mail.",
        "For developers": "Für Entwickler",
        "API description (OpenAPI)": "API-Beschreibung (OpenAPI)",
        "Health check": "Statusprüfung",
    },
}


def front_door_blueprint(title: str, text: str, **values: str) -> Blueprint:
    """`title` and `text` are English keys of FRONT_DOOR_TEXTS; `values` fill the text's placeholders."""
    bp = Blueprint("front_door", __name__)

    @bp.get("/")
    def front_door():
        t = Translator(negotiate_locale(request.args.get("locale"), request.headers.get("Accept-Language")),
                       FRONT_DOOR_TEXTS)
        html = render_template("tillkey/front_door.html", _=t, asset_url=asset_url, title=t(title),
                               text=t(text, **values), page_class="narrow")
        return html, 200, page_headers()

    return bp
