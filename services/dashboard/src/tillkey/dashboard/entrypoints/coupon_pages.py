"""Coupons: the list (redemptions, on/off) and a form to create one — through the orders API."""
from __future__ import annotations

from flask import Blueprint, redirect, request, url_for

from tillkey.dashboard.entrypoints.pages import dashboard, merchant_key, render, signed_in_only
from tillkey.dashboard.service_layer import catalog, coupons
from tillkey.dashboard.service_layer.errors import Rejected

bp = Blueprint("coupons", __name__)


def _page(status: int = 200, **context):
    api, key = dashboard().api, merchant_key()
    page = coupons.list_coupons(api, key, request.args.get("cursor") or None)
    products = catalog.list_products(api, key).get("data", [])
    context.setdefault("errors", {})
    context.setdefault("values", {"kind": "percent"})
    return render("dashboard/coupons.html", status, coupons=page.get("data", []), next_cursor=page.get("next_cursor"),
                  products=products, changed=request.args.get("changed"), amount_rows=coupons.AMOUNT_ROWS, **context)


@bp.get("/coupons")
@signed_in_only
def coupons_page():
    return _page()


@bp.post("/coupons")
@signed_in_only
def create():
    d = dashboard()
    try:
        coupons.create_coupon(d.api, merchant_key(), coupons.read_coupon_form(request.form, d.clock.now().date()))
    except Rejected as exc:
        return _page(422, errors=exc.errors, detail=exc.detail, values=request.form)
    return redirect(url_for("coupons.coupons_page", changed="created"), 303)


@bp.post("/coupons/<code>/active")
@signed_in_only
def set_active(code):
    active = request.form.get("active") == "true"
    coupons.set_active(dashboard().api, merchant_key(), code, active)
    return redirect(url_for("coupons.coupons_page", changed="switched on" if active else "switched off"), 303)
