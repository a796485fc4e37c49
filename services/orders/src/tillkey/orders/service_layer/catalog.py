"""Merchants, products and coupons: the merchant's side of the catalog."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tillkey.orders.domain.catalog import Merchant, Product
from tillkey.orders.domain.coupons import Coupon, code_key
from tillkey.orders.domain.errors import Conflict, Invalid, NotFound
from tillkey.orders.service_layer.api_keys import default_key
from tillkey.orders.service_layer.ports import Deps, UnitOfWork
from tillkey.orders.service_layer.views import coupon_view, product_event, product_view


# -- commands and queries (plain data, validated for shape at the edge) --
@dataclass(frozen=True)
class RegisterMerchant:
    name: str
    email: str


@dataclass(frozen=True)
class CreateProduct:
    merchant_id: str
    name: str
    prices: dict[str, int]
    default_currency: str
    active: bool = True


@dataclass(frozen=True)
class UpdateProduct:
    merchant_id: str
    product_id: str
    name: str | None = None
    prices: dict[str, int] | None = None
    default_currency: str | None = None
    active: bool | None = None


@dataclass(frozen=True)
class GetProduct:
    merchant_id: str
    product_id: str


@dataclass(frozen=True)
class ListProducts:
    merchant_id: str
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class CreateCoupon:
    merchant_id: str
    code: str
    percent_off: int | None = None
    amount_off: dict[str, int] | None = None
    product_ids: list[str] | None = None
    expires_at: datetime | None = None
    max_redemptions: int | None = None


@dataclass(frozen=True)
class ListCoupons:
    merchant_id: str
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class UpdateCoupon:
    merchant_id: str
    code: str
    active: bool


def register_merchant(cmd: RegisterMerchant, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
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


def create_product(cmd: CreateProduct, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    product = Product.create(deps.new_id("prod"), cmd.merchant_id, cmd.name, cmd.prices, cmd.default_currency,
                             deps.clock.now(), active=cmd.active)
    uow.products.add(product)
    uow.emit("product.created", product_event(product))
    uow.commit()
    return product_view(product, deps.orders_public_url)


def update_product(cmd: UpdateProduct, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    product = _own_product(uow, cmd.merchant_id, cmd.product_id)
    if product.update(deps.clock.now(), name=cmd.name, prices=cmd.prices, default_currency=cmd.default_currency,
                      active=cmd.active):
        uow.emit("product.updated", product_event(product))
        uow.commit()
    return product_view(product, deps.orders_public_url)


def get_product(cmd: GetProduct, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    return product_view(_own_product(uow, cmd.merchant_id, cmd.product_id), deps.orders_public_url)


def list_products(cmd: ListProducts, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    items, cursor = uow.products.page(cmd.merchant_id, cmd.limit, cmd.cursor)
    return {"data": [product_view(p, deps.orders_public_url) for p in items], "next_cursor": cursor}


def create_coupon(cmd: CreateCoupon, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
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


def list_coupons(cmd: ListCoupons, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    items, cursor = uow.coupons.page(cmd.merchant_id, cmd.limit, cmd.cursor)
    return {"data": [coupon_view(x) for x in items], "next_cursor": cursor}


def update_coupon(cmd: UpdateCoupon, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    coupon = uow.coupons.get(cmd.merchant_id, code_key(cmd.code))
    if coupon is None:
        raise NotFound("No such coupon.")
    coupon.set_active(cmd.active, deps.clock.now())
    uow.commit()
    return coupon_view(coupon)
