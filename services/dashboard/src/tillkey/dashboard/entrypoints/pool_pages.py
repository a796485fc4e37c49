"""A product's license pool on its page: deliver from a pool (with its low-stock threshold), add keys
pasted or from a CSV file — through the fulfillment API."""
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


def _page_again(product: dict, exc: Rejected):
    api, key = dashboard().api, merchant_key()
    return render("dashboard/product_form.html", 422, product=product, price_rows=price_rows(product), errors={},
                  values=product, pool=pools.pool_of(api, key, product["product_id"]), pool_errors=exc.errors,
                  pool_detail=exc.detail, built_link=None, link_errors={}, link_values={},
                  pasted=request.form.get("keys", ""))
