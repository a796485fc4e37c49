"""The customer's payment page, `GET /pay/{order_id}?token=…` (HTML; its script is static/pay.js).

The page never receives card data: the script tokenizes the card with the gateway directly
(`SANDBOX_PUBLIC_URL/v1/tokens`) and posts only the token to this service's JSON API. The page
renders the state the order is in now; the script takes it from there (polling the attempts).
"""
from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import Blueprint, render_template, request

from tillkey.contracts import PAYMENT_METHODS
from tillkey.contracts.currencies import exponent, format_amount
from tillkey.payments.entrypoints.common import service
from tillkey.platform import credentials

bp = Blueprint("pay_pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/pay/static")

# What the latest attempt says about the page to show.
_STATE_OF_PAYMENT = {"pending": "pending", "awaiting_funds": "instructions", "failed": "failed"}


@bp.get("/pay/<order_id>")
def pay_page(order_id: str):
    settings = service().settings
    token = request.args.get("token", "")
    if not token or not credentials.verify_order_token(settings.platform_secret, order_id, token):
        # A wrong token must not tell whether the order exists.
        return _page("error.html", 404, title="Order not found",
                     detail="This payment link is not valid. Use the link from your checkout or email.")
    with service().uow_factory() as uow:
        order = uow.order(order_id)
        if order is None:
            # order.created is still on its way from orders: the page refreshes itself.
            return _page("preparing.html", 200, {"Retry-After": "1"})
        if order.status == "deleted":
            return _page("error.html", 410, title="This order has expired",
                         detail="It was not paid in time and can no longer be paid.")
        latest = order.payments[-1] if order.payments else None
        # Rendered inside the unit of work: leaving it rolls back, which expires the loaded rows.
        return _page("pay.html", 200, **_context(order, latest, token, settings))


def _context(order, latest, token: str, settings) -> dict:
    if order.status in ("paid", "refunded"):
        state = "paid"
    elif order.status == "canceled":
        state = "closed"
    else:
        state = _STATE_OF_PAYMENT.get(latest.status, "choose") if latest else "choose"
    instructions = (latest.instructions or {}) if latest is not None and state == "instructions" else {}
    methods = list(PAYMENT_METHODS)
    return {
        "order": order, "state": state, "token": token, "methods": methods,
        "preselected": order.payment_method if any(m["method"] == order.payment_method for m in methods)
        else methods[0]["method"],
        "amount": format_amount(order.amount, order.currency), "exponent": exponent(order.currency),
        "failure_message": latest.failure_message if state == "failed" else "",
        "instructions": instructions,
        "instructions_amount": format_amount(instructions["amount"], instructions["currency"]) if instructions
        else "",
        "sandbox_url": settings.sandbox_public_url.rstrip("/"),
        "order_page_url": f"{settings.orders_public_url.rstrip('/')}/orders/{quote(order.order_id)}"
                          f"?token={quote(token)}",
    }


def _page(template: str, status: int, headers: dict | None = None, **context):
    html = render_template(template, **context)
    return html, status, {**_security_headers(), **(headers or {})}


def _security_headers() -> dict[str, str]:
    gateway = urlsplit(service().settings.sandbox_public_url)
    gateway_origin = f"{gateway.scheme}://{gateway.netloc}"
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        # The URL holds the order token: never send it to the gateway (or anyone) as a Referer.
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        # Scripts only from here; the card goes only to the gateway; no form can post anywhere.
        "Content-Security-Policy": (f"default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
                                    f"connect-src 'self' {gateway_origin}; img-src 'self'; "
                                    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"),
    }
