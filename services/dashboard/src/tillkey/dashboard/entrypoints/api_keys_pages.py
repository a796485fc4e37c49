"""Developers → API keys: create (the key shown once), list (prefix only), revoke after a confirm page —
through the orders API (docs/dashboard.md). Every form has its CSRF token; no page needs JavaScript."""
from __future__ import annotations

from flask import Blueprint, g, redirect, request, url_for

from tillkey.dashboard.entrypoints.pages import dashboard, merchant_key, render, signed_in_only
from tillkey.dashboard.service_layer import api_keys
from tillkey.dashboard.service_layer.errors import Rejected

bp = Blueprint("api_keys", __name__, url_prefix="/developers/api-keys")


def _list_page(status: int = 200, **context):
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return render("dashboard/api_keys.html", status, keys=api_keys.keys(dashboard().api, merchant_key()),
                  changed=request.args.get("changed"), **context)


@bp.get("")
@signed_in_only
def list_page():
    return _list_page()


@bp.post("")
@signed_in_only
def create():
    try:
        created = api_keys.create(dashboard().api, merchant_key(), api_keys.read_name(request.form))
    except Rejected as exc:
        return _list_page(422, errors=exc.errors, detail=exc.detail, values={"name": request.form.get("name", "")})
    # The key is shown on this answer only (no redirect: it must not sit in a URL or a later page).
    return _list_page(201, created=created)


@bp.get("/<key_id>/revoke")
@signed_in_only
def revoke_page(key_id):
    found = api_keys.key_of(dashboard().api, merchant_key(), key_id)      # another merchant's: 404
    return render("dashboard/api_key_revoke.html", key=found)


@bp.post("/<key_id>/revoke")
@signed_in_only
def revoke(key_id):
    d = dashboard()
    switched = api_keys.revoke(d.api, merchant_key(), key_id, g.user.merchant_id, d.uow_factory(), d.sealer,
                               d.clock.now())
    return redirect(url_for("api_keys.list_page", changed="switched" if switched else "revoked"), 303)
