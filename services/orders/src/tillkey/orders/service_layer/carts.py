"""Carts: anyone holding a cart id may change it until checkout; the checkout link fills them too."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tillkey.orders.domain.carts import Cart
from tillkey.orders.domain.catalog import Product
from tillkey.orders.domain.coupons import Coupon, code_key
from tillkey.orders.domain.errors import DomainError, Gone, Invalid, NotFound
from tillkey.orders.service_layer.ports import Deps, UnitOfWork
from tillkey.orders.service_layer.views import cart_view


# -- commands and queries (plain data, validated for shape at the edge) --
class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()   # "not in the request", as opposed to an explicit null


@dataclass(frozen=True)
class CartLineInput:
    product_id: str
    quantity: int


@dataclass(frozen=True)
class CreateCart:
    lines: list[CartLineInput]
    currency: str | None = None
    coupon: str | None = None
    email: str | None = None
    return_url: str | None = None
    custom: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GetCart:
    cart_id: str


@dataclass(frozen=True)
class AddCartLine:
    cart_id: str
    product_id: str
    quantity: int


@dataclass(frozen=True)
class UpdateCartLine:
    cart_id: str
    line_id: str
    quantity: int


@dataclass(frozen=True)
class UpdateCart:
    cart_id: str
    currency: Any = UNSET       # str, or UNSET
    coupon: Any = UNSET         # str, None (remove), or UNSET


@dataclass(frozen=True)
class OpenCheckoutLink:
    """`GET /buy/{product_id}`: put the product in this merchant's cart (the cookie's, or a new one)."""

    product_id: str
    cart_ids: dict[str, str] = field(default_factory=dict)   # merchant id → cart id, from the cookies
    quantity: int | None = None         # None: a line already there keeps its quantity, a new one gets 1
    currency: str | None = None
    coupon: str | None = None
    email: str | None = None
    return_url: str | None = None
    custom: dict[str, str] = field(default_factory=dict)
    clear: bool = False
    locale: str | None = None


@dataclass(frozen=True)
class GetCheckoutPage:
    """The cart as its checkout page shows it: the cart and its merchant's name."""

    cart_id: str


@contextmanager
def field_prefix(prefix: str) -> Iterator[None]:
    """Name the request field an error is about (`lines.2.quantity`, not just `quantity`)."""
    try:
        yield
    except DomainError as exc:
        exc.field = f"{prefix}.{exc.field}" if exc.field else prefix
        raise


def find_coupon(uow: UnitOfWork, merchant_id: str, code: str) -> Coupon:
    coupon = uow.coupons.get(merchant_id, code_key(code))
    if coupon is None:
        raise Invalid(f"No coupon {code}.", field="coupon", code="coupon_unknown")
    return coupon


def show_cart(cart: Cart, uow: UnitOfWork, deps: Deps, products: Mapping[str, Product] | None = None,
              coupon: Coupon | None = None) -> dict[str, Any]:
    """The cart priced now. `products` (all of its lines') and `coupon` (its coupon) when the caller
    read them already in this transaction: the same rows, not read twice."""
    if products is None:
        products = uow.products.get_many([line.product_id for line in cart.lines])
    if coupon is None and cart.coupon_code:
        coupon = uow.coupons.get(cart.merchant_id, code_key(cart.coupon_code))
    return cart_view(cart, cart.quote(products, coupon, deps.clock.now()), deps.orders_public_url)


def load_cart(uow: UnitOfWork, cart_id: str, lock: bool = True) -> Cart:
    cart = uow.carts.get(cart_id, lock=lock)
    if cart is None:
        raise NotFound("No such cart.")
    return cart


def _coupon_fits_currency(uow: UnitOfWork, cart: Cart) -> None:
    """A currency change must not silently drop an amount_off coupon that has no amount in it."""
    coupon = uow.coupons.get(cart.merchant_id, code_key(cart.coupon_code)) if cart.coupon_code else None
    if coupon is not None and coupon.amount_off is not None and cart.currency not in coupon.amount_off:
        raise Invalid(f"The coupon {coupon.code} cannot be used in {cart.currency}; remove it first.",
                      field="currency", code="coupon_currency")


def _save_and_show(cart: Cart, uow: UnitOfWork, deps: Deps, products: Mapping[str, Product] | None = None,
                   coupon: Coupon | None = None) -> dict[str, Any]:
    view = show_cart(cart, uow, deps, products, coupon)
    uow.commit()
    return view


def create_cart(cmd: CreateCart, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    now = deps.clock.now()
    if not cmd.lines:
        raise Invalid("A cart starts with at least one line.", field="lines")
    products = uow.products.get_many([line.product_id for line in cmd.lines])
    for i, line in enumerate(cmd.lines):
        if line.product_id not in products:
            raise Invalid(f"No product {line.product_id}.", field=f"lines.{i}.product_id")
    cart = Cart.start(deps.new_id("cart"), products[cmd.lines[0].product_id], None, now)
    if cmd.currency is not None:
        cart.change_currency(cmd.currency, {}, now)
    for i, line in enumerate(cmd.lines):
        with field_prefix(f"lines.{i}"):
            cart.add(products[line.product_id], line.quantity, deps.new_id("line"), now)
    coupon = find_coupon(uow, cart.merchant_id, cmd.coupon) if cmd.coupon is not None else None
    if coupon is not None:
        cart.apply_coupon(coupon, now)
    cart.set_details(now, email=cmd.email, return_url=cmd.return_url, custom=cmd.custom)
    uow.carts.add(cart)
    # Every line's product was read above, and the coupon: the answer is priced with them.
    return _save_and_show(cart, uow, deps, products, coupon)


def get_cart(cmd: GetCart, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    return show_cart(load_cart(uow, cmd.cart_id, lock=False), uow, deps)


def get_checkout_page(cmd: GetCheckoutPage, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    cart = load_cart(uow, cmd.cart_id, lock=False)
    merchant = uow.merchants.get(cart.merchant_id)
    return {**show_cart(cart, uow, deps), "merchant_name": merchant.name if merchant else None,
            "merchant_terms_url": merchant.terms_url if merchant else None,
            "merchant_privacy_url": merchant.privacy_url if merchant else None}


def add_cart_line(cmd: AddCartLine, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    cart = load_cart(uow, cmd.cart_id)
    cart.ensure_open()
    product = uow.products.get(cmd.product_id)
    if product is None:
        raise Invalid(f"No product {cmd.product_id}.", field="product_id")
    cart.add(product, cmd.quantity, deps.new_id("line"), deps.clock.now())
    return _save_and_show(cart, uow, deps)


def update_cart_line(cmd: UpdateCartLine, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    cart = load_cart(uow, cmd.cart_id)
    cart.set_quantity(cmd.line_id, cmd.quantity, deps.clock.now())
    return _save_and_show(cart, uow, deps)


def update_cart(cmd: UpdateCart, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    cart = load_cart(uow, cmd.cart_id)
    cart.ensure_open()
    now = deps.clock.now()
    if cmd.currency is not UNSET:
        cart.change_currency(cmd.currency, uow.products.get_many([ln.product_id for ln in cart.lines]), now)
    if cmd.coupon is not UNSET:
        # Applied after the currency, so an amount_off coupon is checked against the new currency.
        cart.apply_coupon(find_coupon(uow, cart.merchant_id, cmd.coupon) if cmd.coupon is not None else None, now)
    elif cmd.currency is not UNSET:
        _coupon_fits_currency(uow, cart)
    return _save_and_show(cart, uow, deps)


def open_checkout_link(cmd: OpenCheckoutLink, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    """The checkout link: the product goes into this merchant's open cart (a new one when the
    cookie's cart is gone, another merchant's, or already checked out) with the link's quantity."""
    now = deps.clock.now()
    product = uow.products.get(cmd.product_id)
    if product is None:
        raise NotFound("No such product.")
    if not product.active:
        raise Gone(f"{product.name} is no longer sold.")
    cookie_cart_id = cmd.cart_ids.get(product.merchant_id)
    cart = uow.carts.get(cookie_cart_id, lock=True) if cookie_cart_id else None
    is_new = cart is None or not cart.is_open or cart.merchant_id != product.merchant_id
    if is_new or cart is None:
        cart = Cart.start(deps.new_id("cart"), product, None, now)
    if cmd.clear:
        cart.clear(now)
    products = uow.products.get_many([line.product_id for line in cart.lines])
    if cmd.currency is not None:
        cart.change_currency(cmd.currency, products, now)
    elif not cart.lines and product.price_in(cart.currency) is None:
        cart.change_currency(product.default_currency, products, now)
    existing = cart.line_for(product.product_id)
    quantity = cmd.quantity if cmd.quantity is not None else (existing.quantity if existing else 1)
    cart.set_product_quantity(product, quantity, deps.new_id("line"), now)
    if cmd.coupon is not None:
        cart.apply_coupon(find_coupon(uow, cart.merchant_id, cmd.coupon), now)
    elif cmd.currency is not None:
        _coupon_fits_currency(uow, cart)
    cart.set_details(now, email=cmd.email, return_url=cmd.return_url, custom=cmd.custom, locale=cmd.locale)
    if is_new:
        uow.carts.add(cart)
    uow.commit()
    return {"cart_id": cart.cart_id, "merchant_id": cart.merchant_id}
