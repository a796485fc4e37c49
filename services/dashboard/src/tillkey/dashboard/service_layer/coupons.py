"""Coupons, through the orders API with the merchant's key: list, create, switch on and off."""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from tillkey.dashboard.domain.money import InvalidPrice, parse_currency, to_minor_units
from tillkey.dashboard.service_layer.errors import NotFound, Rejected
from tillkey.dashboard.service_layer.ids import checked
from tillkey.dashboard.service_layer.ports import PlatformApi

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def list_coupons(api: PlatformApi, key: str, cursor: str | None = None) -> dict:
    params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
    return api.call("orders", "GET", "/v1/coupons", key, params=params)


def read_coupon_form(form: Mapping[str, str], today: date) -> dict:
    """The form → the orders API's body: a percentage or an amount in one currency, optionally for one
    product, until a day (the end of that day, UTC), for at most so many orders."""
    errors: dict[str, list[str]] = {}
    body: dict = {"code": (form.get("code") or "").strip()}
    if not _CODE.match(body["code"]):
        errors["code"] = ["1 to 64 letters, digits, '-' or '_', starting with a letter or digit."]
    if form.get("kind") == "amount":
        try:
            currency = parse_currency(form.get("currency", ""))
            body["amount_off"] = {currency: to_minor_units(form.get("amount", ""), currency)}
        except InvalidPrice as exc:
            errors["amount"] = [str(exc)]
    else:
        percent = (form.get("percent") or "").strip()
        if not percent.isdigit() or not 1 <= int(percent) <= 100:
            errors["percent"] = ["A whole percentage from 1 to 100."]
        else:
            body["percent_off"] = int(percent)
    product_id = (form.get("product_id") or "").strip()
    if product_id:
        body["product_ids"] = [checked(product_id)]
    until = (form.get("expires_on") or "").strip()
    if until:
        try:
            day = date.fromisoformat(until)
        except ValueError:
            day = None
        if day is None or day < today:
            errors["expires_on"] = ["A day (YYYY-MM-DD), today or later."]
        else:
            body["expires_at"] = f"{day.isoformat()}T23:59:59Z"
    limit = (form.get("max_redemptions") or "").strip()
    if limit:
        if not limit.isdigit() or not 1 <= int(limit) <= 10**9:
            errors["max_redemptions"] = ["A whole number, 1 or more."]
        else:
            body["max_redemptions"] = int(limit)
    if errors:
        raise Rejected("The coupon was not created.", errors)
    return body


def create_coupon(api: PlatformApi, key: str, body: dict) -> dict:
    return api.call("orders", "POST", "/v1/coupons", key, body=body)


def set_active(api: PlatformApi, key: str, code: str, active: bool) -> dict:
    if not _CODE.match(code or ""):
        raise NotFound(code)
    return api.call("orders", "PATCH", f"/v1/coupons/{code}", key, body={"active": active})
