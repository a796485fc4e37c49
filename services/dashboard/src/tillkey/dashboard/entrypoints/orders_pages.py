"""Orders: the list (by status, or straight to an order by its id) and one order's story."""
from __future__ import annotations

import secrets

from flask import Blueprint, redirect, request, url_for

from tillkey.dashboard.entrypoints.pages import dashboard, merchant_key, render, signed_in_only
from tillkey.dashboard.service_layer import home as home_numbers
from tillkey.dashboard.service_layer import orders
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
    if query:
        order_id = orders.find_order_id(query)
        if order_id:
            return redirect(url_for("orders.order_page", order_id=order_id))
    status = request.args.get("status") or None
    if status not in (None, *orders.STATUSES):
        status = None
    page = orders.list_orders(dashboard().api, merchant_key(), status, request.args.get("cursor") or None)
    return render("dashboard/orders.html", orders=page.get("data", []), next_cursor=page.get("next_cursor"),
                  status=status, statuses=orders.STATUSES, query=query,
                  query_note="Search takes an order id (ord_…); search by email is not there yet." if query else None)


@bp.get("/orders/<order_id>")
@signed_in_only
def order_page(order_id):
    story = orders.order_story(dashboard().api, merchant_key(), order_id)
    return render("dashboard/order.html", refund_key=secrets.token_urlsafe(24), refund_errors={},
                  refunded=request.args.get("refunded"), **story)


@bp.post("/orders/<order_id>/refund")
@signed_in_only
def refund(order_id):
    api, key = dashboard().api, merchant_key()
    story = orders.order_story(api, key, order_id)       # another merchant's order: 404 before anything
    try:
        orders.refund(api, key, story["order"], request.form.get("amount", ""), request.form.get("reason", ""),
                      request.form.get("refund_key", ""))
    except Rejected as exc:
        return render("dashboard/order.html", 422, refund_key=request.form.get("refund_key", ""),
                      refund_errors=exc.errors, refund_detail=exc.detail, refund_values=request.form, **story)
    return redirect(url_for("orders.order_page", order_id=order_id, refunded="1") + "#refund", 303)


@bp.post("/orders/<order_id>/lines/<line_id>/licenses")
@signed_in_only
def deliver_by_hand(order_id, line_id):
    api, key = dashboard().api, merchant_key()
    story = orders.order_story(api, key, order_id)       # another merchant's order: 404 before anything
    try:
        orders.deliver_by_hand(api, key, story["order"], line_id, request.form.get("keys", ""))
    except Rejected as exc:
        return render("dashboard/order.html", 422, refund_key=secrets.token_urlsafe(24), refund_errors={},
                      deliver_errors=exc.errors, deliver_detail=exc.detail, **story)
    return redirect(url_for("orders.order_page", order_id=order_id, delivered=line_id) + "#deliveries", 303)
