"""Sign in, sign out, sign out everywhere. Every form carries its CSRF token (CSRFProtect checks it)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, g, redirect, request, session, url_for

from tillkey.dashboard.entrypoints.pages import SESSION_KEY, dashboard, render, signed_in_only
from tillkey.dashboard.service_layer import accounts
from tillkey.dashboard.service_layer.errors import SignInFailed
from tillkey.platform.rate_limits import client_address, rate_limited

bp = Blueprint("auth", __name__, template_folder="templates")   # templates/dashboard/*.html


def _email_key() -> str:
    return (request.form.get("email") or "").strip().lower()[:320] or "none"


def _safe_next(target: str | None) -> str:
    """Only a path of ours: `?next=https://evil.example` must not turn sign-in into a redirector."""
    parts = urlsplit(target or "")
    # Browsers read a backslash as a slash ("/" + "\\evil.example" is "//evil.example"): refused, as is
    # a control character.
    if (target and not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//")
            and "\\" not in target and target.isprintable()):
        return target
    return url_for("orders.home")


@bp.get("/login")
def sign_in_page():
    if g.user is not None:
        return redirect(url_for("orders.home"))
    return render("dashboard/login.html", next=request.args.get("next", ""))


@bp.post("/login")
@rate_limited(("logins_per_address", client_address), ("logins_per_email", _email_key),
              counts=lambda response: response.status_code != 303)     # failed tries count, not sign-ins
def sign_in():
    d = dashboard()
    email = request.form.get("email", "")
    try:
        token = accounts.sign_in(email, request.form.get("password", ""), d.uow_factory(), d.hasher,
                                 d.clock.now(), d.settings.session_lifetime)
    except SignInFailed:
        return render("dashboard/login.html", 401, next=request.form.get("next", ""), email=email,
                      error="That email and password do not match an account.")
    session.clear()              # a new CSRF token too: nothing from before the sign-in carries over
    session[SESSION_KEY] = token
    session.permanent = True
    return redirect(_safe_next(request.form.get("next")), 303)


@bp.post("/logout")
def sign_out():
    accounts.sign_out(session.get(SESSION_KEY), dashboard().uow_factory())
    session.clear()
    return redirect(url_for("auth.sign_in_page"), 303)


@bp.post("/logout-everywhere")
@signed_in_only
def sign_out_everywhere():
    accounts.sign_out_everywhere(g.user.user_id, dashboard().uow_factory())
    session.clear()
    return redirect(url_for("auth.sign_in_page", signed_out="everywhere"), 303)
