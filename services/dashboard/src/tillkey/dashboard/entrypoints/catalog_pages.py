"""Products: list (with checkout links to copy), create, edit — through the orders API."""
from __future__ import annotations

from flask import Blueprint, redirect, request, url_for

from tillkey.dashboard.domain.money import from_minor_units
from tillkey.dashboard.entrypoints.pages import dashboard, merchant_key, render, signed_in_only
from tillkey.dashboard.service_layer import catalog, links, pools
from tillkey.dashboard.service_layer.errors import Rejected

bp = Blueprint("catalog", __name__)


def price_rows(product: dict | None, form=None) -> list[tuple[str, str]]:
    """(currency, amount as typed) per row of the form: what was posted, else the product's prices."""
    if form is not None:
        return [(form.get(f"currency_{i}", ""), form.get(f"amount_{i}", "")) for i in range(catalog.PRICE_ROWS)]
    prices = list((product or {}).get("prices", {}).items())
    filled = [(code, from_minor_units(amount, code)) for code, amount in prices]
    return (filled + [("", "")] * catalog.PRICE_ROWS)[:max(catalog.PRICE_ROWS, len(filled))]


@bp.get("/products")
@signed_in_only
def list_page():
    page = catalog.list_products(dashboard().api, merchant_key(), request.args.get("cursor") or None)
    return render("dashboard/products.html", products=page.get("data", []), next_cursor=page.get("next_cursor"),
                  created=request.args.get("created"))


@bp.get("/products/new")
@signed_in_only
def new_page():
    return render("dashboard/product_form.html", product=None, price_rows=price_rows(None), errors={},
                  values={"active": True})


@bp.post("/products/new")
@signed_in_only
def create():
    try:
        product = catalog.create_product(dashboard().api, merchant_key(), catalog.read_product_form(request.form))
    except Rejected as exc:
        return _form_again(None, exc)
    return redirect(url_for("catalog.edit_page", product_id=product["product_id"], saved="created"), 303)


@bp.get("/products/<product_id>")
@signed_in_only
def edit_page(product_id):
    api, key = dashboard().api, merchant_key()
    product = catalog.get_product(api, key, product_id)
    return render("dashboard/product_form.html", product=product, price_rows=price_rows(product), errors={},
                  values=product, saved=request.args.get("saved"), pool=pools.pool_of(api, key, product_id),
                  **_link_builder(product))


def _link_builder(product: dict) -> dict:
    """The link builder is a GET form on the product's page: the built link shows without JavaScript."""
    if "build" not in request.args:
        return {"built_link": None, "link_errors": {}, "link_values": {}}
    try:
        return {"built_link": links.build_link(product, request.args), "link_errors": {},
                "link_values": request.args}
    except Rejected as exc:
        return {"built_link": None, "link_errors": exc.errors, "link_values": request.args}


@bp.post("/products/<product_id>")
@signed_in_only
def update(product_id):
    api, key = dashboard().api, merchant_key()
    product = catalog.get_product(api, key, product_id)       # another merchant's: 404 before any change
    try:
        catalog.update_product(api, key, product_id, catalog.read_product_form(request.form))
    except Rejected as exc:
        return _form_again(product, exc)
    return redirect(url_for("catalog.edit_page", product_id=product_id, saved="saved"), 303)


def _form_again(product: dict | None, exc: Rejected):
    values = {"name": request.form.get("name", ""), "default_currency": request.form.get("default_currency", ""),
              "active": request.form.get("active") in ("on", "true", "1")}
    return render("dashboard/product_form.html", 422, product=product, price_rows=price_rows(None, request.form),
                  errors=exc.errors, detail=exc.detail, values=values, pool=None, built_link=None, link_errors={},
                  link_values={})
