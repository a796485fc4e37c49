"""The merchant's dashboard users: add or invite a colleague, remove one, change one's own password;
the invited colleague's page (a one-time link, no sign-in needed)."""
from __future__ import annotations

from flask import Blueprint, g, redirect, request, session, url_for

from tillkey.dashboard.domain.accounts import InvalidAccount
from tillkey.dashboard.entrypoints.pages import SESSION_KEY, dashboard, render, signed_in_only
from tillkey.dashboard.service_layer import accounts, invitations
from tillkey.dashboard.service_layer.errors import AlreadyExists, NotFound

bp = Blueprint("users", __name__)


def _page(status: int = 200, **context):
    d = dashboard()
    context.setdefault("errors", {})
    return render("dashboard/users.html", status, users=accounts.users_of(g.user.merchant_id, d.uow_factory()),
                  invitations=invitations.pending(g.user.merchant_id, d.uow_factory(), d.clock.now()),
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


@bp.post("/users/invitations")
@signed_in_only
def invite():
    d = dashboard()
    email = request.form.get("email", "")
    try:
        invitation, token = invitations.invite(g.user, email, d.uow_factory(), d.clock.now())
    except InvalidAccount as exc:
        return _page(422, invite_errors={k: [v] for k, v in exc.errors.items()}, invite_email=email)
    except AlreadyExists as exc:
        return _page(409, invite_errors={"email": [str(exc)]}, invite_email=email)
    # The link is in this answer only (its token is kept hashed): no redirect, which would lose it.
    return _page(201, invited=invitation, invitation_link=url_for("users.invitation_page", token=token,
                                                                  _external=True))


@bp.post("/users/invitations/<invitation_id>/withdraw")
@signed_in_only
def withdraw_invitation(invitation_id):
    invitations.withdraw(g.user, invitation_id, dashboard().uow_factory())
    return redirect(url_for("users.users_page", changed="withdrawn"), 303)


@bp.get("/invitations/<token>")
def invitation_page(token):
    d = dashboard()
    invitation = invitations.open_invitation(token, d.uow_factory(), d.clock.now())
    return render("dashboard/invitation.html", invitation=invitation, token=token, errors={})


@bp.post("/invitations/<token>")
def accept_invitation(token):
    d = dashboard()
    try:
        session_token = invitations.accept(token, request.form.get("password", ""), d.uow_factory(), d.hasher,
                                           d.clock.now(), d.settings.session_lifetime)
    except InvalidAccount as exc:
        invitation = invitations.open_invitation(token, d.uow_factory(), d.clock.now())
        return render("dashboard/invitation.html", 422, invitation=invitation, token=token,
                      errors={k: [v] for k, v in exc.errors.items()})
    except AlreadyExists:
        raise NotFound("invitation") from None      # the email got an account meanwhile: the link is spent
    session.clear()              # whoever was signed in in this browser: now the new colleague
    session[SESSION_KEY] = session_token
    session.permanent = True
    return redirect(url_for("orders.home"), 303)
