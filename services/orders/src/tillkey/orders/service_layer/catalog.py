"""Merchants, products and coupons: the merchant's side of the catalog."""
from __future__ import annotations

from tillkey.orders.domain.catalog import Merchant, Product
from tillkey.orders.domain.coupons import Coupon, code_key
from tillkey.orders.domain.errors import Conflict, Invalid, NotFound
from tillkey.orders.service_layer import commands as c
from tillkey.orders.service_layer.api_keys import default_key
from tillkey.orders.service_layer.ports import Deps, UnitOfWork
from tillkey.orders.service_layer.views import coupon_view, product_event, product_view


def register_merchant(cmd: c.RegisterMerchant, uow: UnitOfWork, deps: Deps) -> dict:
    merchant = Merchant(deps.new_id("mer"), cmd.name, cmd.email, deps.clock.now())
    uow.merchants.add(merchant)
    # Notifications learns the merchant's address from this event, not from a call to us.
    uow.emit("merchant.registered", {"merchant_id": merchant.merchant_id, "name": merchant.name,
                                     "email": merchant.email})
    # The key is self-verifying, so only its id, name and prefix are kept: shown once, like a password.
    api_key = default_key(uow, deps, merchant.merchant_id)
    uow.commit()
    return {"merchant_id": merchant.merchant_id, "api_key": api_key}


def _own_product(uow: UnitOfWork, merchant_id: str, product_id: str) -> Product:
    product = uow.products.get(product_id)
    # Another merchant's product is "not found": its existence is none of the caller's business.
    if product is None or product.merchant_id != merchant_id:
        raise NotFound("No such product.")
    return product


def create_product(cmd: c.CreateProduct, uow: UnitOfWork, deps: Deps) -> dict:
    product = Product.create(deps.new_id("prod"), cmd.merchant_id, cmd.name, cmd.prices, cmd.default_currency,
                             deps.clock.now(), active=cmd.active)
    uow.products.add(product)
    uow.emit("product.created", product_event(product))
    uow.commit()
    return product_view(product, deps.orders_public_url)


def update_product(cmd: c.UpdateProduct, uow: UnitOfWork, deps: Deps) -> dict:
    product = _own_product(uow, cmd.merchant_id, cmd.product_id)
    if product.update(deps.clock.now(), name=cmd.name, prices=cmd.prices, default_currency=cmd.default_currency,
                      active=cmd.active):
        uow.emit("product.updated", product_event(product))
        uow.commit()
    return product_view(product, deps.orders_public_url)


def get_product(cmd: c.GetProduct, uow: UnitOfWork, deps: Deps) -> dict:
    return product_view(_own_product(uow, cmd.merchant_id, cmd.product_id), deps.orders_public_url)


def list_products(cmd: c.ListProducts, uow: UnitOfWork, deps: Deps) -> dict:
    items, cursor = uow.products.page(cmd.merchant_id, cmd.limit, cmd.cursor)
    return {"data": [product_view(p, deps.orders_public_url) for p in items], "next_cursor": cursor}


def create_coupon(cmd: c.CreateCoupon, uow: UnitOfWork, deps: Deps) -> dict:
    coupon = Coupon.create(cmd.merchant_id, cmd.code, deps.clock.now(), percent_off=cmd.percent_off,
                           amount_off=cmd.amount_off, product_ids=cmd.product_ids, expires_at=cmd.expires_at,
                           max_redemptions=cmd.max_redemptions)
    if coupon.product_ids is not None:
        found = uow.products.get_many(coupon.product_ids)
        for i, product_id in enumerate(cmd.product_ids or []):
            if product_id not in found or found[product_id].merchant_id != cmd.merchant_id:
                raise Invalid(f"No product {product_id}.", field=f"product_ids.{i}")
    if uow.coupons.get(cmd.merchant_id, coupon.code_key) is not None:
        raise Conflict(f"A coupon with the code {coupon.code} exists already (codes ignore case).",
                       code="coupon_exists")
    uow.coupons.add(coupon)
    uow.commit()
    return coupon_view(coupon)


def list_coupons(cmd: c.ListCoupons, uow: UnitOfWork, deps: Deps) -> dict:
    items, cursor = uow.coupons.page(cmd.merchant_id, cmd.limit, cmd.cursor)
    return {"data": [coupon_view(x) for x in items], "next_cursor": cursor}


def update_coupon(cmd: c.UpdateCoupon, uow: UnitOfWork, deps: Deps) -> dict:
    coupon = uow.coupons.get(cmd.merchant_id, code_key(cmd.code))
    if coupon is None:
        raise NotFound("No such coupon.")
    coupon.set_active(cmd.active, deps.clock.now())
    uow.commit()
    return coupon_view(coupon)
