"""Request bodies → clean values, or one error per field (never echoing a card number back)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from tillkey.payments.sandbox import cards

MAX_AMOUNT = 99_999_999_999  # minor units; keeps every sum far inside SQLite's 64-bit integers
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")


class GatewayProblem(Exception):
    """Answered as application/problem+json: `code` for machines, `errors` per field."""

    def __init__(self, status: int, code: str, detail: str, errors: dict[str, list[str]] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.errors = errors
        self.headers = headers or {}


@dataclass
class _Errors:
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise GatewayProblem(422, "validation_error", "The request has invalid fields.", self.errors)


def _int(body: dict, name: str, errs: _Errors, required: bool = True) -> int | None:
    value = body.get(name)
    if value is None:
        if required:
            errs.add(name, "Missing data for required field.")
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())  # form inputs arrive as strings from the payment page's script
    if isinstance(value, bool) or not isinstance(value, int):
        errs.add(name, "Not a valid integer.")
        return None
    return value


def _str(body: dict, name: str, errs: _Errors, max_len: int = 255, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            errs.add(name, "Missing data for required field.")
        return None
    if not isinstance(value, str):
        errs.add(name, "Not a valid string.")
        return None
    if len(value) > max_len:
        errs.add(name, f"Longer than maximum length {max_len}.")
        return None
    return value


def card(body: dict[str, Any], today: date) -> tuple[str, int, int, str]:
    errs = _Errors()
    number = _str(body, "number", errs, max_len=40)
    if number is not None:
        number = cards.normalize_number(number)
        if not cards.valid_number(number):
            errs.add("number", "Not a valid card number.")
    month = _int(body, "exp_month", errs)
    if month is not None and not 1 <= month <= 12:
        errs.add("exp_month", "Must be between 1 and 12.")
        month = None
    year = _int(body, "exp_year", errs)
    if year is not None and not (0 <= year < 100 or 2000 <= year <= 2099):
        errs.add("exp_year", "Not a valid year.")
        year = None
    if month is not None and year is not None and cards.expired(month, year, today):
        errs.add("exp_year", "The card has expired.")
    cvc = body.get("cvc")
    if not isinstance(cvc, str) or not cards.valid_cvc(cvc):
        errs.add("cvc", "Must be 3 or 4 digits.")
    errs.raise_if_any()
    if number is None or month is None or year is None or not isinstance(cvc, str):  # raise_if_any raised
        raise AssertionError("unreachable: a card field missing without a validation error")
    return number, month, cards.full_year(year), cvc


def _amount(body: dict, errs: _Errors) -> int | None:
    amount = _int(body, "amount", errs)
    if amount is not None and not 1 <= amount <= MAX_AMOUNT:
        errs.add("amount", f"Must be between 1 and {MAX_AMOUNT} (minor units).")
        return None
    return amount


def _url(body: dict, name: str, errs: _Errors) -> str | None:
    url = _str(body, name, errs, max_len=2048)
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            errs.add(name, "Not a valid http(s) URL.")
            return None
    return url


def charge(body: dict[str, Any]) -> dict[str, Any]:
    errs = _Errors()
    out = {
        "payment_token": _str(body, "payment_token", errs),
        "amount": _amount(body, errs),
        "currency": _str(body, "currency", errs, max_len=3),
        "reference": _str(body, "reference", errs),
        "notification_url": _url(body, "notification_url", errs),
        "metadata": {} if body.get("metadata") is None else body["metadata"],
    }
    if out["currency"] is not None:
        if _CURRENCY.match(out["currency"]):
            out["currency"] = out["currency"].upper()
        else:
            errs.add("currency", "Must be an ISO 4217 code such as EUR.")
    meta = out["metadata"]
    if not isinstance(meta, dict) or len(meta) > 50 or not all(
            isinstance(k, str) and isinstance(v, str) and len(k) <= 40 and len(v) <= 500 for k, v in meta.items()):
        errs.add("metadata", "Must be an object of at most 50 string keys and string values.")
    errs.raise_if_any()
    return out


def refund(body: dict[str, Any]) -> dict[str, Any]:
    errs = _Errors()
    out = {
        "charge_id": _str(body, "charge_id", errs),
        "amount": _amount(body, errs),
        "reference": _str(body, "reference", errs),
        "notification_url": _url(body, "notification_url", errs),
    }
    errs.raise_if_any()
    return out


def idempotency_key(value: str | None) -> str:
    if not value:
        raise GatewayProblem(400, "idempotency_key_required",
                             "The Idempotency-Key header is required: retries must carry the same key.")
    if len(value) > 255:
        raise GatewayProblem(400, "bad_request", "The Idempotency-Key header is longer than 255 characters.")
    return value
