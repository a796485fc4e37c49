"""What every dashboard page shares: the signed-in user, the merchant's kept key, the frame, the headers."""
from __future__ import annotations

from functools import wraps

from flask import current_app, g, redirect, render_template, request, session, url_for

from tillkey.dashboard.bootstrap import Dashboard
from tillkey.dashboard.domain.money import from_minor_units
from tillkey.dashboard.service_layer import accounts
from tillkey.platform.formatting import format_date, format_money
from tillkey.platform.web import Translator, asset_url, page_headers

SESSION_KEY = "sid"      # the sign-in token inside Flask's signed cookie; the row is in `sessions`


def dashboard() -> Dashboard:
    return current_app.extensions["tillkey.dashboard"]


def load_user() -> None:
    """before_request: who is signed in (a deleted or expired session row signs the browser out)."""
    g.user = None
    if request.path.startswith(("/assets/", "/healthz", "/readyz", "/metrics", "/admin/")):
        return
    d = dashboard()
    g.user = accounts.signed_in(session.get(SESSION_KEY), d.uow_factory(), d.clock.now())
    if g.user is None and SESSION_KEY in session:
        session.pop(SESSION_KEY)


def signed_in_only(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.user is None:
            return redirect(url_for("auth.sign_in_page", next=request.full_path if request.method == "GET" else None))
        return view(*args, **kwargs)

    return wrapper


def merchant_key() -> str:
    """The signed-in merchant's API key, opened for this request only; it never reaches a page."""
    d = dashboard()
    return accounts.merchant_api_key(g.user.merchant_id, d.uow_factory(), d.sealer)


def rows(value) -> list:
    """A list answer or a page (`{"data": [...]}`) as its rows."""
    if isinstance(value, dict):
        return value.get("data") or []
    return value or []


def render(template: str, status: int = 200, **context):
    values = {"_": Translator("en"), "asset_url": asset_url, "user": g.get("user"), "rows": rows,
              "merchant_name": g.user.merchant_name if g.get("user") else "Tillkey dashboard",
              "money": lambda amount, currency: format_money(amount, currency, "en")
              if amount is not None and currency else "—",
              "decimal": from_minor_units, "date": lambda value: format_date(value, "en") if value else "—"}
    html = render_template(template, **{**values, **context})
    # Our own origin only: forms post here, no script or style from elsewhere, no Referer leaves.
    return html, status, page_headers(form_targets=(), referrer="same-origin")
