"""The support console's operations pages (docs/dashboard.md): dead letters per service — listed, one
shown whole, replayed (one or all, after a form with a reason, recorded in the support log) — and the
emails notifications gave up on. A broker that does not answer gives the 503 page."""
from __future__ import annotations

from flask import Blueprint, g, redirect, request, url_for

from tillkey.dashboard.entrypoints.pages import dashboard
from tillkey.dashboard.entrypoints.support_pages import _render, support_only
from tillkey.dashboard.service_layer import support_ops
from tillkey.dashboard.service_layer.errors import NotFound, Rejected

bp = Blueprint("support_ops", __name__, url_prefix="/support")


def _service(service: str) -> str:
    if service not in dashboard().dead_letters.services:
        raise NotFound(service)
    return service


@bp.get("/dead-letters")
@support_only
def dead_letters():
    d = dashboard()
    return _render("dashboard/support_dead_letters.html", **support_ops.overview(d.dead_letters, d.uow_factory()),
                   done=request.args.get("done"))


def _letters_page(service: str, status: int = 200, **context):
    listing = support_ops.letters_of(dashboard().dead_letters, _service(service))
    return _render("dashboard/support_dead_letter_list.html", status, done=request.args.get("done"), **listing,
                   **context)


@bp.get("/dead-letters/<service>")
@support_only
def letters(service):
    return _letters_page(service)


def _letter_page(service: str, message_id: str, status: int = 200, **context):
    letter = support_ops.letter_of(dashboard().dead_letters, _service(service), message_id)
    return _render("dashboard/support_dead_letter.html", status, service=service, letter=letter, **context)


@bp.get("/dead-letters/<service>/messages/<message_id>")
@support_only
def letter(service, message_id):
    return _letter_page(service, message_id)


@bp.post("/dead-letters/<service>/replay")
@support_only
def replay(service):
    d = dashboard()
    service = _service(service)
    every = request.form.get("all") == "1"
    message_id = None if every else (request.form.get("message_id") or "")
    if message_id == "":
        return _letters_page(service, 422, detail="Choose a message to replay, or all of them.", errors={})
    try:
        count = support_ops.replay(d.dead_letters, service, message_id, request.form.get("reason", ""), g.support,
                                   d.uow_factory(), d.clock.now())
    except Rejected as exc:
        if every:
            return _letters_page(service, 422, detail=exc.detail, errors=exc.errors)
        return _letter_page(service, message_id, 422, detail=exc.detail, errors=exc.errors)
    return redirect(url_for("support_ops.letters", service=service, done=f"{count} message(s) replayed"), 303)


@bp.get("/failed-emails")
@support_only
def failed_emails():
    d = dashboard()
    page = support_ops.failed_emails(d.api, d.settings.admin_token, request.args.get("cursor") or None)
    return _render("dashboard/support_failed_emails.html", emails=page.get("data", []),
                   next_cursor=page.get("next_cursor"))
