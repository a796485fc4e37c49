"""Products (merchant): create, read, change, list."""
from __future__ import annotations

from flask import Blueprint

from tillkey.orders.entrypoints import schemas as s
from tillkey.orders.entrypoints.common import authorize, merchant_id, run
from tillkey.orders.service_layer.catalog import CreateProduct, GetProduct, ListProducts, UpdateProduct
from tillkey.platform.api import endpoint
from tillkey.platform.idempotency import idempotent
from tillkey.platform.pagination import PageQuery

bp = Blueprint("products", __name__)
TAGS = ("products",)


@bp.post("/v1/products")
@authorize("merchant")
@idempotent
@endpoint(body=s.ProductIn, response=s.ProductOut, status=201, auth="merchant", tags=TAGS)
def create(body):
    """Create a product with a price per currency; the answer holds its checkout link."""
    return run(CreateProduct(merchant_id(), **body))


@bp.get("/v1/products")
@authorize("merchant")
@endpoint(query=PageQuery, response=s.ProductList, auth="merchant", tags=TAGS)
def list_(query):
    """The merchant's products, newest first."""
    return run(ListProducts(merchant_id(), **query))


@bp.get("/v1/products/<product_id>")
@authorize("merchant")
@endpoint(response=s.ProductOut, auth="merchant", tags=TAGS)
def get(product_id):
    """One of the merchant's products."""
    return run(GetProduct(merchant_id(), product_id))


@bp.patch("/v1/products/<product_id>")
@authorize("merchant")
@endpoint(body=s.ProductPatch, response=s.ProductOut, auth="merchant", tags=TAGS)
def update(product_id, body):
    """Change name, prices, default currency or `active` (an inactive product's link answers 410)."""
    return run(UpdateProduct(merchant_id(), product_id, **body))
