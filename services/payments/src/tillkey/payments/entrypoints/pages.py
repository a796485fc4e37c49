"""The customer's payment page, `GET /pay/{order_id}?token=…` (HTML; its script is static/pay.js).

The page never receives card data: the script tokenizes the card with the gateway directly
(`SANDBOX_PUBLIC_URL/v1/tokens`) and posts only the token to this service's JSON API. The page
renders the state the order is in now; the script takes it from there (polling the attempts).
Language: the `locale` the checkout page passes along, else the browser's Accept-Language.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, render_template, request

from tillkey.contracts import PAYMENT_METHODS
from tillkey.contracts.currencies import exponent
from tillkey.payments.entrypoints.common import run, service
from tillkey.payments.entrypoints.pay_texts import FAILURES, SCRIPT_TEXTS, TEXTS
from tillkey.payments.sandbox.cards import TEST_CARD_NOTES
from tillkey.payments.service_layer import views
from tillkey.platform import credentials
from tillkey.platform.formatting import format_date, format_money, in_fours
from tillkey.platform.web import Translator, asset_url, assets_blueprint, negotiate_locale, page_headers

bp = Blueprint("pay_pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/pay/static")
bp.register_blueprint(assets_blueprint())   # the shared look, served from /assets/ on this origin

@bp.get("/pay/<order_id>")
def pay_page(order_id: str):
    settings = service().settings
    t = Translator(negotiate_locale(request.args.get("locale"), request.headers.get("Accept-Language")), TEXTS)
    token = request.args.get("token", "")
    if not token or not credentials.verify_order_token(settings.platform_secret, order_id, token):
        # A wrong token must not tell whether the order exists.
        return _page("error.html", t, 404, title=t("Order not found"),
                     detail=t("This payment link is not valid. Use the link from your checkout or email."))
    page = run(views.GetPayPage(order_id))
    if page is not None and page.order.locale and not request.args.get("locale"):
        # Links from emails carry no locale: speak the language the customer checked out in.
        t = Translator(negotiate_locale(page.order.locale, request.headers.get("Accept-Language")), TEXTS)
    if page is None:
        # order.created is still on its way from orders: the page refreshes itself.
        return _page("preparing.html", t, 200, {"Retry-After": "1"})
    if page.state == "deleted":
        return _page("error.html", t, 410, title=t("This order has expired"),
                     detail=t("It was not paid in time and can no longer be paid."))
    return _page("pay.html", t, 200, **_context(page, token, settings, t))


def _context(page: views.PayPage, token: str, settings, t: Translator) -> dict:
    order, latest, state = page.order, page.latest, page.state
    instructions = (latest.instructions or {}) if latest is not None and state == "instructions" else {}
    methods = list(PAYMENT_METHODS)
    failure: str | None = ""
    if state == "failed" and latest is not None:
        failure = t(FAILURES[latest.failure_code]) if latest.failure_code in FAILURES else latest.failure_message
    preselected = (order.payment_method if any(m["method"] == order.payment_method for m in methods)
                   else methods[0]["method"])
    money = lambda amount: format_money(amount, order.currency, t.locale)  # noqa: E731
    return {
        "order": order, "state": state, "token": token, "methods": methods, "money": money,
        "merchant_name": page.merchant_name,
        "preselected": preselected,
        # Bank transfer chosen at checkout: the details are what the customer came for, at once.
        "autostart": preselected == "bank_transfer" and state == "choose" and not order.payments,
        "summary": order.summary,
        "amount": money(order.amount), "exponent": exponent(order.currency),
        "failure_message": failure or "",
        "instructions": instructions,
        "instructions_amount": format_money(instructions["amount"], instructions["currency"], t.locale)
        if instructions else "",
        "iban": in_fours(instructions.get("iban", "")),
        "due_date": format_date(instructions.get("due_date"), t.locale),
        "sandbox_url": settings.sandbox_public_url.rstrip("/"),
        # The sandbox takes the cards: say so plainly and list its test cards (docs/integration.md, "Test cards").
        "test_cards": [(in_fours(number), t(note)) for number, note in TEST_CARD_NOTES.items()]
        if service().deps.card_gateway == "sandbox" else [],
        "script_texts": {**t.subset(SCRIPT_TEXTS), **{code: t(text) for code, text in FAILURES.items()}},
        "order_page_url": f"{settings.orders_public_url.rstrip('/')}/orders/{quote(order.order_id)}"
                          f"?token={quote(token)}&locale={t.locale}",
    }


def _page(template: str, t: Translator, status: int, headers: dict | None = None, **context):
    html = render_template(template, _=t, asset_url=asset_url, **context)
    # The card goes only to the gateway (connect-src); no form posts anywhere (form-action 'none');
    # the URL holds the order token, so no referrer leaves the page.
    security = page_headers(connect_to=(service().settings.sandbox_public_url,))
    return html, status, {**security, **(headers or {})}
