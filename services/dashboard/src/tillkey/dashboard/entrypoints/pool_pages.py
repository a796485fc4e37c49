"""A product's licenses on its page: deliver from a pool (with its low-stock threshold), add keys
pasted or from a CSV file, or deliver another way (web service, email, manual, generated keys) —
through the fulfillment API."""
from __future__ import annotations

from flask import Blueprint, redirect, request, url_for

from tillkey.dashboard.entrypoints.catalog_pages import price_rows
from tillkey.dashboard.entrypoints.pages import dashboard, merchant_key, render, signed_in_only
from tillkey.dashboard.service_layer import catalog, pools
from tillkey.dashboard.service_layer.errors import Rejected

bp = Blueprint("pools", __name__)


@bp.post("/products/<product_id>/pool")
@signed_in_only
def use_pool(product_id):
    api, key = dashboard().api, merchant_key()
    product = catalog.get_product(api, key, product_id)       # another merchant's: 404 before any change
    try:
        pools.use_pool(api, key, product_id, request.form.get("low_stock_threshold", ""))
    except Rejected as exc:
        return _page_again(product, exc)
    return redirect(url_for("catalog.edit_page", product_id=product_id, saved="pool") + "#pool", 303)


@bp.post("/products/<product_id>/keys")
@signed_in_only
def add_keys(product_id):
    api, key = dashboard().api, merchant_key()
    product = catalog.get_product(api, key, product_id)
    upload = request.files.get("file")
    try:
        keys = pools.read_keys(request.form.get("keys", ""), upload.read() if upload and upload.filename else None)
        result = pools.add_keys(api, key, product_id, keys)
    except Rejected as exc:
        return _page_again(product, exc)
    return redirect(url_for("catalog.edit_page", product_id=product_id, saved="keys", added=result["added"],
                            duplicates=result["duplicates"]) + "#pool", 303)


@bp.post("/products/<product_id>/license-source")
@signed_in_only
def set_source(product_id):
    api, key = dashboard().api, merchant_key()
    product = catalog.get_product(api, key, product_id)       # another merchant's: 404 before any change
    try:
        answer = pools.set_source(api, key, product_id, pools.read_source_form(request.form))
    except Rejected as exc:
        return _page(product, 422, source_errors=exc.errors, source_detail=exc.detail, source_values=request.form)
    if answer.get("secret"):
        # A web service's signing secret is in this answer only: shown here, once, never again.
        return _page(product, 200, saved="source", source_secret=answer["secret"])
    return redirect(url_for("catalog.edit_page", product_id=product_id, saved="source") + "#pool", 303)


def _page_again(product: dict, exc: Rejected):
    return _page(product, 422, pool_errors=exc.errors, pool_detail=exc.detail, pasted=request.form.get("keys", ""))


def _page(product: dict, status: int, **context):
    api, key = dashboard().api, merchant_key()
    return render("dashboard/product_form.html", status, product=product, price_rows=price_rows(product), errors={},
                  values=product, pool=pools.pool_of(api, key, product["product_id"]), built_link=None,
                  link_errors={}, link_values={}, **context)
