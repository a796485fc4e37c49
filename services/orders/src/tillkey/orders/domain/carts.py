"""The cart: one merchant's products in one currency, with an optional coupon, until checkout.

Prices are not stored on the cart: they are read from the products each time the cart is shown,
so a currency change reprices every line and the customer always sees the current price. The
order takes its snapshot at checkout; after that the cart is locked for good.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from tillkey.orders.domain.catalog import Product
from tillkey.orders.domain.coupons import Coupon
from tillkey.orders.domain.errors import Conflict, Invalid, NotFound
from tillkey.orders.domain.money import is_currency
from tillkey.orders.domain.pricing import LineInput, PricedCart, price_cart

MAX_QUANTITY = 1000
MAX_CUSTOM_KEYS = 20


@dataclass(eq=False)
class CartLine:
    line_id: str
    product_id: str
    quantity: int
    position: int


@dataclass(frozen=True)
class QuotedLine:
    line: CartLine
    name: str
    unit_price: int
    discount: int
    total: int
    problem: str | None     # why this line cannot be bought now (product withdrawn, no price)


@dataclass(frozen=True)
class Quote:
    lines: tuple[QuotedLine, ...]
    priced: PricedCart
    coupon_problem: str | None

    @property
    def problems(self) -> list[str]:
        return [q.problem for q in self.lines if q.problem] + ([self.coupon_problem] if self.coupon_problem else [])


def check_quantity(quantity: int, allow_zero: bool = False) -> None:
    low = 0 if allow_zero else 1
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not low <= quantity <= MAX_QUANTITY:
        raise Invalid(f"The quantity must be from {low} to {MAX_QUANTITY}.", field="quantity")


@dataclass(eq=False)
class Cart:
    cart_id: str
    merchant_id: str
    currency: str
    created_at: datetime
    updated_at: datetime
    lines: list[CartLine] = field(default_factory=list)
    coupon_code: str | None = None
    email: str | None = None
    return_url: str | None = None
    custom: dict[str, str] = field(default_factory=dict)
    order_id: str | None = None
    locale: str | None = None       # the link's language choice; the order's customer.locale at checkout

    @classmethod
    def start(cls, cart_id: str, first: Product, currency: str | None, now: datetime) -> Cart:
        """A new cart belongs to the merchant of its first product, in the asked or default currency."""
        return cls(cart_id, first.merchant_id, currency or first.default_currency, now, now)

    # -- guards ------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.order_id is None

    def ensure_open(self) -> None:
        if not self.is_open:
            raise Conflict("This cart has been checked out and can no longer change.", code="cart_checked_out")

    def _check_product(self, product: Product, currency: str) -> None:
        if product.merchant_id != self.merchant_id:
            raise Invalid("A cart holds the products of one merchant only.", field="product_id",
                          code="merchant_mismatch")
        if not product.active:
            raise Invalid(f"The product {product.name} is no longer sold.", field="product_id",
                          code="product_inactive")
        if product.price_in(currency) is None:
            raise Invalid(f"The product {product.name} has no price in {currency}.", field="currency",
                          code="currency_unavailable")

    # -- lines -------------------------------------------------------------------------
    def line(self, line_id: str) -> CartLine:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise NotFound("No such cart line.", field="line_id")

    def line_for(self, product_id: str) -> CartLine | None:
        return next((line for line in self.lines if line.product_id == product_id), None)

    def add(self, product: Product, quantity: int, new_line_id: str, now: datetime) -> CartLine:
        """Add a product, or raise the quantity of its line."""
        self.ensure_open()
        check_quantity(quantity)
        self._check_product(product, self.currency)
        line = self.line_for(product.product_id)
        if line is not None:
            check_quantity(line.quantity + quantity)
            line.quantity += quantity
        else:
            line = CartLine(new_line_id, product.product_id, quantity, self._next_position())
            self.lines.append(line)
        self.updated_at = now
        return line

    def set_product_quantity(self, product: Product, quantity: int, new_line_id: str, now: datetime) -> None:
        """The checkout link's rule: the line's quantity becomes `quantity` (a reload does not add)."""
        self.ensure_open()
        check_quantity(quantity)
        self._check_product(product, self.currency)
        line = self.line_for(product.product_id)
        if line is None:
            self.lines.append(CartLine(new_line_id, product.product_id, quantity, self._next_position()))
        else:
            line.quantity = quantity
        self.updated_at = now

    def set_quantity(self, line_id: str, quantity: int, now: datetime) -> None:
        """0 removes the line."""
        self.ensure_open()
        line = self.line(line_id)
        check_quantity(quantity, allow_zero=True)
        if quantity == 0:
            self.lines.remove(line)
        else:
            line.quantity = quantity
        self.updated_at = now

    def clear(self, now: datetime) -> None:
        """Start over: no lines, no coupon, no custom data."""
        self.ensure_open()
        self.lines.clear()
        self.coupon_code = None
        self.custom = {}
        self.updated_at = now

    def _next_position(self) -> int:
        return max((line.position for line in self.lines), default=0) + 1

    # -- currency, coupon, details -----------------------------------------------------------
    def change_currency(self, currency: str, products: Mapping[str, Product], now: datetime) -> None:
        """Reprice the cart: every line's product must have a price in `currency`."""
        self.ensure_open()
        if not is_currency(currency):
            raise Invalid(f"{currency!r} is not an ISO 4217 currency code.", field="currency")
        for line in self.lines:
            product = products.get(line.product_id)
            if product is not None and product.price_in(currency) is None:
                raise Invalid(f"The product {product.name} has no price in {currency}.", field="currency",
                              code="currency_unavailable")
        if currency != self.currency:
            self.currency = currency
            self.updated_at = now

    def apply_coupon(self, coupon: Coupon | None, now: datetime) -> None:
        """Apply a usable coupon of this merchant, or remove the coupon with None."""
        self.ensure_open()
        if coupon is not None:
            if coupon.merchant_id != self.merchant_id:
                raise Invalid(f"No coupon {coupon.code}.", field="coupon", code="coupon_unknown")
            coupon.check_usable(now, self.currency)
        self.coupon_code = coupon.code if coupon is not None else None
        self.updated_at = now

    def set_details(self, now: datetime, *, email: str | None = None, return_url: str | None = None,
                    custom: Mapping[str, str] | None = None, locale: str | None = None) -> None:
        """What the checkout link carries along: a prefilled email, the way back, the merchant's
        reference, the page's language."""
        self.ensure_open()
        if email is not None:
            self.email = email
        if locale is not None:
            self.locale = locale
        if return_url is not None:
            self.return_url = return_url
        if custom:
            merged = {**self.custom, **custom}
            # Links add keys one at a time; the limit holds for the sum, not only for one link.
            if len(merged) > MAX_CUSTOM_KEYS:
                raise Invalid(f"At most {MAX_CUSTOM_KEYS} custom keys per cart.", field="custom")
            self.custom = merged
        self.updated_at = now

    def forget_email(self, now: datetime) -> None:
        """The order of this cart was deleted: the prefilled email is personal data too."""
        self.email = None
        self.updated_at = now

    def mark_checked_out(self, order_id: str, now: datetime) -> None:
        self.ensure_open()
        self.order_id = order_id
        self.updated_at = now

    # -- pricing -------------------------------------------------------------------------------
    def quote(self, products: Mapping[str, Product], coupon: Coupon | None, now: datetime) -> Quote:
        """The cart priced now. Lines that cannot be bought are shown with their problem and left
        out of the totals; a coupon that cannot be used is shown with its problem and not applied."""
        lines = sorted(self.lines, key=lambda ln: ln.position)
        problems: dict[str, str] = {}
        prices: dict[str, int] = {}
        for line in lines:
            product = products.get(line.product_id)
            price = product.price_in(self.currency) if product is not None else None
            if product is None or not product.active:
                problems[line.line_id] = "This product is no longer sold."
            elif price is None:
                problems[line.line_id] = f"This product has no price in {self.currency}."
            prices[line.line_id] = price or 0
        discount, coupon_problem = None, None
        if self.coupon_code is not None:
            found = coupon.problem(now, self.currency) if coupon is not None else None
            if coupon is None:
                coupon_problem = f"The coupon {self.coupon_code} no longer exists."
            elif found is not None:
                coupon_problem = found[1]
            else:
                discount = coupon.discount(self.currency)
        priced = price_cart([LineInput(ln.line_id, ln.product_id, prices[ln.line_id], ln.quantity)
                             for ln in lines if ln.line_id not in problems], discount)
        by_key = {p.key: p for p in priced.lines}
        quoted = []
        for line in lines:
            product = products.get(line.product_id)
            p = by_key.get(line.line_id)
            quoted.append(QuotedLine(
                line, product.name if product is not None else "", prices[line.line_id],
                p.discount if p else 0, p.total if p else prices[line.line_id] * line.quantity,
                problems.get(line.line_id)))
        return Quote(tuple(quoted), priced, coupon_problem)
