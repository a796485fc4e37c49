"""The customer's order page `/orders/{order_id}?token=…` (docs/architecture.md §2.6), linked from every customer email.

Server-rendered and autoescaped; the order token in the URL is the only credential, so the
resend form posts back to the same URL (no cookie, hence nothing for a cross-site request to
ride on: a forged post would need the token). The token must not leak: no referrer leaves the
page, and it is never cached.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, redirect, request

from tillkey.orders.entrypoints.common import run, settings
from tillkey.orders.entrypoints.page_support import (
    error_page,
    language_links,
    page_locale,
    render_page,
    translator,
)
from tillkey.orders.service_layer.access import Viewer
from tillkey.orders.service_layer.support import GetOrderPage, ResendLicenses
from tillkey.platform.credentials import verify_order_token
from tillkey.platform.problems import ApiError
from tillkey.platform.rate_limits import client_address, path_value, rate_limited

bp = Blueprint("order_page", __name__, template_folder="templates")
# Why the resend button did nothing, in words the page translates.
RESEND_PROBLEMS = {
    "too_many_requests": "The licenses were sent again a moment ago; please check your mailbox.",
    "not_delivered": "Nothing has been delivered yet: the licenses are emailed as soon as they are.",
    "order_status": "Licenses are sent again for paid orders only.",
}


def _customer(order_id: str) -> tuple[Viewer, str]:
    token = request.args.get("token", "")
    if not token or not verify_order_token(settings().platform_secret, order_id, token):
        # A wrong token and a missing order look the same: the page reveals nothing.
        raise ApiError(404, "There is no such order, or the link is incomplete.", code="not_found")
    return Viewer("customer", order_id=order_id), token


def _render(order_id: str, viewer: Viewer, token: str, status: int = 200, notice: str | None = None,
            problem: str | None = None):
    page = run(GetOrderPage(order_id, viewer))
    locale = page_locale(page["customer"].get("locale"))
    t = translator(locale)
    self_url = f"/orders/{order_id}?token={quote(token)}"
    payment_url = f"{page['payment_url']}&locale={locale}" if page.get("payment_url") else None
    return render_page("order.html", locale, status, form_targets=(), order=page, payment_url=payment_url,
                       notice=t(notice) if notice else None, problem=t(problem) if problem else None,
                       self_url=self_url,
                       merchant_name=page.get("merchant_name"), page_class="narrow",
                       lang_links=language_links(f"/orders/{order_id}", {"token": token}))


@bp.get("/orders/<order_id>")
def show(order_id):
    viewer, token = _customer(order_id)
    notice = "We are emailing your licenses again." if request.args.get("resent") == "1" else None
    return _render(order_id, viewer, token, notice=notice)


@bp.post("/orders/<order_id>")
@rate_limited(("per_address", client_address), ("resends_per_order", path_value("order_id")))
def resend(order_id):
    """The page's "email my licenses again" button."""
    viewer, token = _customer(order_id)
    try:
        run(ResendLicenses(order_id, viewer))
    except ApiError as exc:
        if exc.status == 404:
            raise
        # Not now (too soon, nothing delivered yet): the page again, saying why.
        return _render(order_id, viewer, token, status=exc.status, problem=RESEND_PROBLEMS.get(exc.code, exc.detail))
    # Post/redirect/get: a reload of the result does not send the email once more.
    return redirect(f"/orders/{order_id}?token={quote(token)}&resent=1", code=303)


@bp.errorhandler(ApiError)
def _error_page(exc: ApiError):
    return error_page(exc)
