"""The support console under /support: its own sign-in (the admin credential and a name), any
merchant's order by id, customer email or bank transfer reference, and cancel / refund / resend,
each recorded with who and why."""
from __future__ import annotations

import secrets
from functools import wraps

from flask import Blueprint, g, redirect, request, session, url_for

from tillkey.dashboard.entrypoints.pages import dashboard, render
from tillkey.dashboard.service_layer import support
from tillkey.dashboard.service_layer.errors import NotFound, Rejected, SignInFailed
from tillkey.platform.rate_limits import client_address, rate_limited

bp = Blueprint("support", __name__, url_prefix="/support")
SUPPORT_KEY = "support_sid"       # beside the merchant's sign-in in the same signed cookie, never mixed


def load_support() -> None:
    d = dashboard()
    g.support = support.signed_in(session.get(SUPPORT_KEY), d.uow_factory(), d.clock.now())


def support_only(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        load_support()
        if g.support is None:
            return redirect(url_for("support.sign_in_page"))
        return view(*args, **kwargs)

    return wrapper


def _render(template: str, status: int = 200, **context):
    return render(template, status, support_name=g.get("support"), **context)


@bp.get("/login")
def sign_in_page():
    return _render("dashboard/support_login.html")


@bp.post("/login")
@rate_limited(("logins_per_address", client_address), counts=lambda response: response.status_code != 303)
def sign_in():
    d = dashboard()
    try:
        token = support.sign_in(request.form.get("admin_token", ""), request.form.get("name", ""),
                                d.settings.admin_token, d.uow_factory(), d.clock.now(), d.settings.session_lifetime)
    except SignInFailed:
        return _render("dashboard/support_login.html", 401, error="That is not the admin credential.",
                       name=request.form.get("name", ""))
    except Rejected as exc:
        return _render("dashboard/support_login.html", 422, error=exc.errors["name"][0])
    session[SUPPORT_KEY] = token
    return redirect(url_for("support.home"), 303)


@bp.post("/logout")
def sign_out():
    support.sign_out(session.pop(SUPPORT_KEY, None), dashboard().uow_factory())
    return redirect(url_for("support.sign_in_page"), 303)


@bp.get("")
@support_only
def home():
    query = (request.args.get("q") or "").strip()
    if not query:
        return _render("dashboard/support_home.html", query=query)
    d = dashboard()
    try:
        found = support.find(d.api, d.settings.admin_token, query, request.args.get("cursor") or None)
    except Rejected as exc:
        return _render("dashboard/support_home.html", 422, query=query, note=exc.detail)
    except NotFound:
        return _render("dashboard/support_home.html", 404, query=query,
                       note="No bank transfer has this reference.")
    if "orders" not in found:
        # An order id, or the order of a bank transfer (its payment marked on the page).
        return redirect(url_for("support.order_page", order_id=found["order_id"],
                                payment=found.get("payment_id")) + ("#payments" if found.get("payment_id") else ""))
    return _render("dashboard/support_home.html", query=query, orders=found["orders"],
                   next_cursor=found["next_cursor"])


def _order_page(order_id: str, status: int = 200, **context):
    d = dashboard()
    story = support.order_of(d.api, d.settings.admin_token, order_id, d.uow_factory())
    context.setdefault("form_key", secrets.token_urlsafe(24))
    context.setdefault("errors", {})
    return _render("dashboard/support_order.html", status, done=request.args.get("done"),
                   found_payment=request.args.get("payment"), **story, **context)


@bp.get("/orders/<order_id>")
@support_only
def order_page(order_id):
    return _order_page(order_id)


@bp.post("/orders/<order_id>/confirm/<kind>/<item_id>")
@support_only
def confirm(order_id, kind, item_id):
    d = dashboard()
    story = support.order_of(d.api, d.settings.admin_token, order_id, d.uow_factory())
    try:
        support.confirm(d.api, d.settings.admin_token, story, kind, item_id, request.form.get("reason", ""), g.support,
                        d.uow_factory(), d.clock.now())
    except Rejected as exc:
        return _order_page(order_id, 422, errors=exc.errors, detail=exc.detail)
    return redirect(url_for("support.order_page", order_id=order_id, done=f"{kind} confirmed"), 303)


@bp.post("/orders/<order_id>/<action>")
@support_only
def act(order_id, action):
    d = dashboard()
    order = support.order_of(d.api, d.settings.admin_token, order_id, d.uow_factory())["order"]
    try:
        support.act(d.api, d.settings.admin_token, order, action, request.form.get("reason", ""),
                    request.form.get("amount", ""), g.support, request.form.get("form_key", ""), d.uow_factory(),
                    d.clock.now())
    except Rejected as exc:
        return _order_page(order_id, 422, errors=exc.errors, detail=exc.detail, failed_action=action,
                           form_key=request.form.get("form_key", ""))
    return redirect(url_for("support.order_page", order_id=order_id, done=action), 303)
