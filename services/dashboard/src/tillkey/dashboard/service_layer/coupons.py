"""Coupons, through the orders API with the merchant's key: list, create, switch on and off."""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from itertools import zip_longest
from typing import Any, cast

from tillkey.dashboard.domain.money import InvalidPrice, parse_currency, to_minor_units
from tillkey.dashboard.service_layer.errors import NotFound, Rejected
from tillkey.dashboard.service_layer.ids import checked
from tillkey.dashboard.service_layer.ports import PlatformApi

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def list_coupons(api: PlatformApi, key: str, cursor: str | None = None) -> dict[str, Any]:
    params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
    return api.call("orders", "GET", "/v1/coupons", key, params=params)


AMOUNT_ROWS = 3   # amount rows on the form, one currency each


def _all(form: Mapping[str, Any], name: str) -> list[str]:
    """Every value a form sent under one name (a browser sends each row's field, empty or not)."""
    if hasattr(form, "getlist"):
        return cast(list[str], form.getlist(name))    # a werkzeug MultiDict's, untyped behind Mapping
    value = form.get(name)
    return [value] if isinstance(value, str) else list(value or [])


def read_coupon_form(form: Mapping[str, str], today: date) -> dict[str, Any]:
    """The form → the orders API's body: a percentage, or an amount in one or more currencies (the
    `amount`/`currency` rows, paired in order), for every product or the ticked ones, until a day
    (the end of that day, UTC), for at most so many orders."""
    errors: dict[str, list[str]] = {}
    body: dict[str, Any] = {"code": (form.get("code") or "").strip()}
    if not _CODE.match(body["code"]):
        errors["code"] = ["1 to 64 letters, digits, '-' or '_', starting with a letter or digit."]
    if form.get("kind") == "amount":
        amounts, problems = _amounts(_all(form, "amount"), _all(form, "currency"))
        if problems:
            errors["amount"] = problems
        else:
            body["amount_off"] = amounts
    else:
        percent = (form.get("percent") or "").strip()
        if not percent.isdigit() or not 1 <= int(percent) <= 100:
            errors["percent"] = ["A whole percentage from 1 to 100."]
        else:
            body["percent_off"] = int(percent)
    product_ids = list(dict.fromkeys(p.strip() for p in _all(form, "product_id") if p and p.strip()))
    if product_ids:
        body["product_ids"] = [checked(p) for p in product_ids]
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


def _amounts(amounts: list[str], currencies: list[str]) -> tuple[dict[str, int], list[str]]:
    """{currency: minor units} from the filled rows; every wrong row named by its currency or place."""
    found: dict[str, int] = {}
    problems: list[str] = []
    rows = [(a.strip(), c.strip()) for a, c in zip_longest(amounts, currencies, fillvalue="")]
    for number, (amount, currency) in enumerate(rows, start=1):
        if not amount and not currency:
            continue
        try:
            code = parse_currency(currency)
        except InvalidPrice as exc:
            problems.append(f"Row {number}: {exc}")
            continue
        if code in found:
            problems.append(f"{code} is given twice: one amount per currency.")
            continue
        try:
            found[code] = to_minor_units(amount, code)
        except InvalidPrice as exc:
            problems.append(f"{code}: {exc}")
    if not found and not problems:
        problems.append("An amount and its currency, like 5.00 EUR.")
    return found, problems


def create_coupon(api: PlatformApi, key: str, body: dict[str, Any]) -> dict[str, Any]:
    return api.call("orders", "POST", "/v1/coupons", key, body=body)


def set_active(api: PlatformApi, key: str, code: str, active: bool) -> dict[str, Any]:
    if not _CODE.match(code or ""):
        raise NotFound(code)
    return api.call("orders", "PATCH", f"/v1/coupons/{code}", key, body={"active": active})
