"""The customer's order page `/orders/{order_id}?token=…` (SPEC §1.8), linked from every customer email.

Server-rendered and autoescaped; the order token in the URL is the only credential, so the
resend form posts back to the same URL (no cookie, hence nothing for a cross-site request to
ride on). The token must not leak: no referrer leaves the page, and it is never cached.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, redirect, render_template, request

from tillkey.orders.domain.money import format_amount
from tillkey.orders.entrypoints.common import run, settings
from tillkey.orders.service_layer import commands as c
from tillkey.platform.credentials import verify_order_token
from tillkey.platform.problems import ApiError

bp = Blueprint("order_page", __name__, template_folder="templates")
_HEADERS = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


def _customer(order_id: str) -> tuple[c.Viewer, str]:
    token = request.args.get("token", "")
    if not token or not verify_order_token(settings().platform_secret, order_id, token):
        # A wrong token and a missing order look the same: the page reveals nothing.
        raise ApiError(404, "There is no such order, or the link is incomplete.", code="not_found")
    return c.Viewer("customer", order_id=order_id), token


def _render(order_id: str, viewer: c.Viewer, token: str, status: int = 200, notice: str | None = None,
            problem: str | None = None):
    page = run(c.GetOrderPage(order_id, viewer))
    html = render_template("order.html", order=page, money=format_amount, notice=notice, problem=problem,
                           self_url=f"/orders/{order_id}?token={quote(token)}")
    return html, status, _HEADERS


@bp.get("/orders/<order_id>")
def show(order_id):
    viewer, token = _customer(order_id)
    notice = "We are emailing your licenses again." if request.args.get("resent") == "1" else None
    return _render(order_id, viewer, token, notice=notice)


@bp.post("/orders/<order_id>")
def resend(order_id):
    """The page's "email my licenses again" button."""
    viewer, token = _customer(order_id)
    try:
        run(c.ResendLicenses(order_id, viewer))
    except ApiError as exc:
        if exc.status == 404:
            raise
        # Not now (too soon, nothing delivered yet): the page again, saying why.
        return _render(order_id, viewer, token, status=exc.status, problem=exc.detail)
    # Post/redirect/get: a reload of the result does not send the email once more.
    return redirect(f"/orders/{order_id}?token={quote(token)}&resent=1", code=303)


@bp.errorhandler(ApiError)
def _error_page(exc: ApiError):
    html = render_template("error.html", status=exc.status, detail=exc.detail, errors=exc.errors or {})
    return html, exc.status, _HEADERS
