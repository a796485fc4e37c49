"""Orders: the list (by email, status and days, or straight to an order by its id) and one order's story
with its actions: refund, resend the licenses, deliver a line by hand."""
from __future__ import annotations

import secrets

from flask import Blueprint, redirect, request, url_for

from tillkey.dashboard.entrypoints.pages import dashboard, merchant_key, render, signed_in_only
from tillkey.dashboard.service_layer import home as home_numbers
from tillkey.dashboard.service_layer import orders, support
from tillkey.dashboard.service_layer.errors import Rejected
from tillkey.platform.formatting import format_money

bp = Blueprint("orders", __name__)


@bp.get("/")
@signed_in_only
def home():
    d = dashboard()
    numbers = home_numbers.home(d.api, merchant_key(), d.clock.now().date())
    currency = numbers["currency"]
    return render("dashboard/home.html", revenue_fmt=lambda v: format_money(v, currency, "en") if currency else v,
                  count_fmt=str, **numbers)


@bp.get("/orders")
@signed_in_only
def list_page():
    query = (request.args.get("q") or "").strip()
    order_id = orders.find_order_id(query)
    if order_id:
        return redirect(url_for("orders.order_page", order_id=order_id))
    values = {name: (request.args.get(name) or "").strip() for name in ("status", "created_from", "created_to")}
    context = {"statuses": orders.STATUSES, "query": query, "values": values, "status_filter": values["status"] or None}
    try:
        search = orders.order_search(request.args)
    except Rejected as exc:
        # Told on the form, as the API would have refused it: nothing is asked of the orders API.
        return render("dashboard/orders.html", 422, orders=[], next_cursor=None, search_errors=exc.errors,
                      **context)
    page = orders.list_orders(dashboard().api, merchant_key(), search, request.args.get("cursor") or None)
    return render("dashboard/orders.html", orders=page.get("data", []), next_cursor=page.get("next_cursor"),
                  search=search, search_errors={}, **context)


def _order_page(story: dict, status: int = 200, **context):
    """The order page; every form on it gets its own random key (the Idempotency-Key it is sent with)."""
    context.setdefault("refund_key", secrets.token_urlsafe(24))
    context.setdefault("resend_key", secrets.token_urlsafe(24))
    context.setdefault("refund_errors", {})
    # Only after order_story: another merchant's order is 404 before its log is read.
    context.setdefault("support_log", support.log_of(story["order"]["order_id"], dashboard().uow_factory()))
    return render("dashboard/order.html", status, refunded=request.args.get("refunded"),
                  resent=request.args.get("resent"), **context, **story)


@bp.get("/orders/<order_id>")
@signed_in_only
def order_page(order_id):
    return _order_page(orders.order_story(dashboard().api, merchant_key(), order_id))


@bp.post("/orders/<order_id>/refund")
@signed_in_only
def refund(order_id):
    api, key = dashboard().api, merchant_key()
    story = orders.order_story(api, key, order_id)       # another merchant's order: 404 before anything
    try:
        orders.refund(api, key, story["order"], request.form.get("amount", ""), request.form.get("reason", ""),
                      request.form.get("refund_key", ""))
    except Rejected as exc:
        return _order_page(story, 422, refund_key=request.form.get("refund_key", ""), refund_errors=exc.errors,
                           refund_detail=exc.detail, refund_values=request.form)
    return redirect(url_for("orders.order_page", order_id=order_id, refunded="1") + "#refund", 303)


@bp.post("/orders/<order_id>/resend-licenses")
@signed_in_only
def resend_licenses(order_id):
    api, key = dashboard().api, merchant_key()
    story = orders.order_story(api, key, order_id)       # another merchant's order: 404 before anything
    try:
        orders.resend_licenses(api, key, story["order"], request.form.get("resend_key", ""))
    except Rejected as exc:
        return _order_page(story, 422, resend_detail=exc.detail)
    return redirect(url_for("orders.order_page", order_id=order_id, resent="1") + "#resend", 303)


@bp.post("/orders/<order_id>/lines/<line_id>/licenses")
@signed_in_only
def deliver_by_hand(order_id, line_id):
    api, key = dashboard().api, merchant_key()
    story = orders.order_story(api, key, order_id)       # another merchant's order: 404 before anything
    try:
        orders.deliver_by_hand(api, key, story["order"], line_id, request.form.get("keys", ""))
    except Rejected as exc:
        return _order_page(story, 422, deliver_errors=exc.errors, deliver_detail=exc.detail)
    return redirect(url_for("orders.order_page", order_id=order_id, delivered=line_id) + "#deliveries", 303)
