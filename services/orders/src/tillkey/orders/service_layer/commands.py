"""Commands (imperative) and queries the handlers take; plain data, validated at the edge for shape."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()   # "not in the request", as opposed to an explicit null


@dataclass(frozen=True)
class Viewer:
    """Who is asking, in the service's terms: admin, merchant (with its id) or customer (one order)."""

    kind: str
    merchant_id: str | None = None
    order_id: str | None = None


# -- merchants, products, coupons ---------------------------------------------------------------
@dataclass(frozen=True)
class RegisterMerchant:
    name: str
    email: str


@dataclass(frozen=True)
class CreateApiKey:
    merchant_id: str
    name: str
    caller: KeyCaller | None = None


@dataclass(frozen=True)
class ListApiKeys:
    merchant_id: str
    caller: KeyCaller | None = None


@dataclass(frozen=True)
class RevokeApiKey:
    merchant_id: str
    key_id: str
    by: str                          # "merchant" or "admin"
    caller: KeyCaller | None = None


@dataclass(frozen=True)
class KeyCaller:
    """The API key a merchant calls with (None for admin): a key older than the registry is
    recorded when it lists or creates keys, so it can be seen and revoked too."""

    key_id: str
    prefix: str


@dataclass(frozen=True)
class GetMerchant:
    merchant_id: str


@dataclass(frozen=True)
class UpdateMerchant:
    merchant_id: str
    changes: dict   # name, terms_url, privacy_url: only the keys given change (None removes a link)


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


# -- carts and checkout ---------------------------------------------------------------------------
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
class CustomerInput:
    email: str
    first_name: str
    last_name: str
    country: str
    company: str | None = None
    vat_id: str | None = None
    locale: str | None = None


@dataclass(frozen=True)
class Checkout:
    cart_id: str
    customer: CustomerInput
    payment_method: str
    terms_accepted: bool
    personal_data_accepted: bool


# -- orders -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GetOrder:
    order_id: str
    viewer: Viewer


@dataclass(frozen=True)
class OrderFilter:
    """What an order list is narrowed to; None is "any"."""

    merchant_id: str | None = None      # None: every merchant's (support)
    status: str | None = None
    delivery_status: str | None = None
    email: str | None = None            # exact, ignoring case
    created_from: datetime | None = None      # inclusive
    created_before: datetime | None = None    # exclusive


@dataclass(frozen=True)
class ListOrders:
    viewer: Viewer
    status: str | None = None
    delivery_status: str | None = None
    email: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None
    limit: int = 50
    cursor: str | None = None


# -- support and the customer's order page -------------------------------------------------------
@dataclass(frozen=True)
class CancelOrder:
    order_id: str
    viewer: Viewer
    reason: str


@dataclass(frozen=True)
class RefundOrder:
    order_id: str
    viewer: Viewer
    reason: str
    amount: int | None = None       # None: all that is left


@dataclass(frozen=True)
class ResendLicenses:
    order_id: str
    viewer: Viewer


@dataclass(frozen=True)
class GetCheckoutPage:
    """The cart as its checkout page shows it: the cart and its merchant's name."""

    cart_id: str


@dataclass(frozen=True)
class GetPaymentUrl:
    """The payment page of an order (the checkout page sends a checked-out cart's customer there)."""

    order_id: str


@dataclass(frozen=True)
class GetOrderPage:
    order_id: str
    viewer: Viewer


# -- time-driven work (the scheduler) -------------------------------------------------------------
@dataclass(frozen=True)
class RemindUnpaidOrders:
    after: float        # seconds since the order was placed (UNPAID_REMINDER_AFTER)
    ttl: float          # UNPAID_ORDER_TTL: no reminder for an order about to be deleted
    limit: int = 100


@dataclass(frozen=True)
class DeleteExpiredOrders:
    ttl: float
    limit: int = 100
