"""Developers: webhook endpoints (create, edit, enable/disable, send a test event, rotate the secret,
delete) and the delivery log with its attempts and redelivery — through the webhooks API."""
from __future__ import annotations

import secrets

from flask import Blueprint, redirect, request, url_for

from tillkey.contracts.registry import PUBLIC_EVENT_TYPES
from tillkey.dashboard.entrypoints.pages import dashboard, merchant_key, render, signed_in_only
from tillkey.dashboard.service_layer import developers
from tillkey.dashboard.service_layer.errors import Rejected

bp = Blueprint("developers", __name__, url_prefix="/developers")


def _endpoints_page(status: int = 200, **context):
    endpoints = developers.endpoints(dashboard().api, merchant_key())
    context.setdefault("errors", {})
    context.setdefault("values", {"events": [developers.ALL_EVENTS]})
    return render("dashboard/endpoints.html", status, endpoints=endpoints, event_types=PUBLIC_EVENT_TYPES,
                  changed=request.args.get("changed"), form_key=secrets.token_urlsafe(24), **context)


@bp.get("/webhooks")
@signed_in_only
def endpoints_page():
    return _endpoints_page()


@bp.post("/webhooks")
@signed_in_only
def create_endpoint():
    try:
        created = developers.create_endpoint(dashboard().api, merchant_key(),
                                             developers.read_endpoint_form(request.form))
    except Rejected as exc:
        return _endpoints_page(422, errors=exc.errors, detail=exc.detail, values=_form_values(request.form))
    # The secret is shown on this answer only (no redirect: it must not sit in a URL or a later page).
    return _endpoints_page(201, secret_for=created["endpoint_id"], secret=created["secret"])


def _form_values(form) -> dict:
    return {"url": form.get("url", ""), "events": form.getlist("events"), "description": form.get("description", "")}


@bp.get("/webhooks/<endpoint_id>/edit")
@signed_in_only
def edit_page(endpoint_id):
    found = developers.endpoint_of(dashboard().api, merchant_key(), endpoint_id)   # another merchant's: 404
    return render("dashboard/endpoint_edit.html", endpoint=found, event_types=PUBLIC_EVENT_TYPES, errors={},
                  values={"url": found["url"], "events": found["events"], "description": found.get("description")})


@bp.post("/webhooks/<endpoint_id>/edit")
@signed_in_only
def edit(endpoint_id):
    api, key = dashboard().api, merchant_key()
    found = developers.endpoint_of(api, key, endpoint_id)                           # another merchant's: 404
    try:
        developers.update_endpoint(api, key, endpoint_id, developers.read_endpoint_form(request.form))
    except Rejected as exc:
        return render("dashboard/endpoint_edit.html", 422, endpoint=found, event_types=PUBLIC_EVENT_TYPES,
                      errors=exc.errors, detail=exc.detail, values=_form_values(request.form))
    return redirect(url_for("developers.endpoints_page", changed="saved"), 303)


@bp.post("/webhooks/<endpoint_id>/ping")
@signed_in_only
def send_test_event(endpoint_id):
    delivery = developers.send_test_event(dashboard().api, merchant_key(), endpoint_id,
                                          request.form.get("form_key", ""))
    # To the endpoint's log, where the attempt (and the endpoint's answer) shows once it is sent.
    return redirect(url_for("developers.deliveries_page", endpoint_id=endpoint_id,
                            pinged=delivery.get("delivery_id", "")), 303)


@bp.post("/webhooks/<endpoint_id>/enabled")
@signed_in_only
def set_enabled(endpoint_id):
    enable = request.form.get("enabled") == "true"
    developers.set_enabled(dashboard().api, merchant_key(), endpoint_id, enable)
    return redirect(url_for("developers.endpoints_page", changed="enabled" if enable else "disabled"), 303)


@bp.post("/webhooks/<endpoint_id>/rotate-secret")
@signed_in_only
def rotate_secret(endpoint_id):
    rotated = developers.rotate_secret(dashboard().api, merchant_key(), endpoint_id)
    return _endpoints_page(secret_for=endpoint_id, secret=rotated["secret"], rotated=True)


@bp.post("/webhooks/<endpoint_id>/delete")
@signed_in_only
def delete_endpoint(endpoint_id):
    developers.delete_endpoint(dashboard().api, merchant_key(), endpoint_id)
    return redirect(url_for("developers.endpoints_page", changed="deleted"), 303)


@bp.get("/webhooks/deliveries")
@signed_in_only
def deliveries_page():
    page = developers.deliveries(dashboard().api, merchant_key(), request.args)
    return render("dashboard/deliveries.html", deliveries=page.get("data", []), next_cursor=page.get("next_cursor"),
                  statuses=developers.DELIVERY_STATUSES, query=request.args,
                  redelivered=request.args.get("redelivered"), pinged=request.args.get("pinged"))


@bp.post("/webhooks/deliveries/<delivery_id>/redeliver")
@signed_in_only
def redeliver(delivery_id):
    developers.redeliver(dashboard().api, merchant_key(), delivery_id)
    return redirect(url_for("developers.deliveries_page", redelivered=delivery_id), 303)
