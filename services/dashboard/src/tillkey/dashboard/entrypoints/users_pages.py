"""The merchant's dashboard users: add a colleague, remove one, change one's own password."""
from __future__ import annotations

from flask import Blueprint, g, redirect, request, session, url_for

from tillkey.dashboard.domain.accounts import InvalidAccount
from tillkey.dashboard.entrypoints.pages import SESSION_KEY, dashboard, render, signed_in_only
from tillkey.dashboard.service_layer import accounts
from tillkey.dashboard.service_layer.errors import AlreadyExists

bp = Blueprint("users", __name__)


def _page(status: int = 200, **context):
    d = dashboard()
    context.setdefault("errors", {})
    return render("dashboard/users.html", status, users=accounts.users_of(g.user.merchant_id, d.uow_factory()),
                  changed=request.args.get("changed"), **context)


@bp.get("/users")
@signed_in_only
def users_page():
    return _page()


@bp.post("/users")
@signed_in_only
def add_user():
    d = dashboard()
    try:
        accounts.add_colleague(g.user, request.form.get("email", ""), request.form.get("password", ""),
                               d.uow_factory(), d.hasher, d.clock.now())
    except InvalidAccount as exc:
        return _page(422, errors={k: [v] for k, v in exc.errors.items()}, email=request.form.get("email", ""))
    except AlreadyExists as exc:
        return _page(409, errors={"email": [str(exc)]}, email=request.form.get("email", ""))
    return redirect(url_for("users.users_page", changed="added"), 303)


@bp.post("/users/password")
@signed_in_only
def change_password():
    d = dashboard()
    try:
        accounts.change_password(g.user, request.form.get("current_password", ""),
                                 request.form.get("new_password", ""), session.get(SESSION_KEY), d.uow_factory(),
                                 d.hasher)
    except InvalidAccount as exc:
        return _page(422, errors={k: [v] for k, v in exc.errors.items()})
    return redirect(url_for("users.users_page", changed="password"), 303)


@bp.post("/users/<user_id>/remove")
@signed_in_only
def remove_user(user_id):
    try:
        email = accounts.remove_colleague(g.user, user_id, dashboard().uow_factory())
    except InvalidAccount as exc:
        return _page(422, errors={k: [v] for k, v in exc.errors.items()})
    return redirect(url_for("users.users_page", changed="removed", removed=email), 303)
