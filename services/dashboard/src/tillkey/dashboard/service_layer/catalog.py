"""The merchant's products, through the orders API with the merchant's own key."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tillkey.dashboard.domain.money import InvalidPrice, parse_currency, to_minor_units
from tillkey.dashboard.service_layer.errors import Rejected
from tillkey.dashboard.service_layer.ids import checked
from tillkey.dashboard.service_layer.ports import PlatformApi

PRICE_ROWS = 5      # price rows on the product form; a product rarely sells in more currencies


@dataclass(frozen=True)
class ProductForm:
    name: str
    prices: dict[str, int]
    default_currency: str
    active: bool

    def body(self) -> dict[str, Any]:
        return {"name": self.name, "prices": self.prices, "default_currency": self.default_currency,
                "active": self.active}


def read_product_form(form: Mapping[str, str]) -> ProductForm:
    """The form's fields → what the orders API takes; every problem at once, by field, for the form."""
    errors: dict[str, list[str]] = {}
    name = (form.get("name") or "").strip()
    if not name or len(name) > 200:
        errors["name"] = ["A name of 1 to 200 characters."]
    prices: dict[str, int] = {}
    for row in range(PRICE_ROWS):
        code, amount = (form.get(f"currency_{row}") or "").strip(), (form.get(f"amount_{row}") or "").strip()
        if not code and not amount:
            continue
        try:
            currency = parse_currency(code)
            if currency in prices:
                raise InvalidPrice(f"{currency} is there twice.")
            prices[currency] = to_minor_units(amount, currency)
        except InvalidPrice as exc:
            errors[f"amount_{row}"] = [str(exc)]
    if not prices and not any(k.startswith("amount_") for k in errors):
        errors["amount_0"] = ["At least one price."]
    default = (form.get("default_currency") or "").strip().upper() or next(iter(prices), "")
    if prices and default not in prices:
        errors["default_currency"] = ["The default currency needs a price."]
    if errors:
        raise Rejected("Some fields need another look.", errors)
    return ProductForm(name, prices, default, form.get("active") in ("on", "true", "1"))


def list_products(api: PlatformApi, key: str, cursor: str | None = None) -> dict[str, Any]:
    params = {"limit": 50, **({"cursor": cursor} if cursor else {})}
    return api.call("orders", "GET", "/v1/products", key, params=params)


def get_product(api: PlatformApi, key: str, product_id: str) -> dict[str, Any]:
    return api.call("orders", "GET", f"/v1/products/{checked(product_id)}", key)


def create_product(api: PlatformApi, key: str, form: ProductForm) -> dict[str, Any]:
    return api.call("orders", "POST", "/v1/products", key, body=form.body())


def update_product(api: PlatformApi, key: str, product_id: str, form: ProductForm) -> dict[str, Any]:
    return api.call("orders", "PATCH", f"/v1/products/{checked(product_id)}", key, body=form.body())
