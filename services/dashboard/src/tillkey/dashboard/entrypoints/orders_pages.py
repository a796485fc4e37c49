"""Orders: the list (by status, or straight to an order by its id) and one order's story."""
from __future__ import annotations

from flask import Blueprint, redirect, request, url_for

from tillkey.dashboard.entrypoints.pages import dashboard, merchant_key, render, signed_in_only
from tillkey.dashboard.service_layer import orders

bp = Blueprint("orders", __name__)


@bp.get("/")
@signed_in_only
def home():
    return redirect(url_for("orders.list_page"))


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
    return render("dashboard/order.html", **story)
