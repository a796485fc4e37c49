"""Erasing a deleted order's customer from what webhooks stored (docs/architecture.md §2.4).

Which fields are personal is decided once, in `tillkey.contracts.personal_data`; here we only
apply it to our copies: the stored webhook bodies (only `order.created` carries `data.customer`,
the contracts tests check every other event type carries none) and, by value, the texts a
merchant's receiver sent back (an endpoint that echoes the request would otherwise keep the
email in our delivery log).
"""
from __future__ import annotations

import json
import re

from tillkey.contracts.personal_data import erase_order_data, personal_values

ERASED = "[erased]"


def body_personal_values(body: str) -> list[str]:
    """The personal values a stored webhook body carries (to find their echoes elsewhere)."""
    return personal_values(json.loads(body).get("data") or {})


def erase_body(body: str) -> str:
    """The same webhook body without the customer's personal data: same keys in the same order,
    same id, type, sequence, amounts and lines, so a merchant sees the same event, erased."""
    message = json.loads(body)
    if not isinstance(message.get("data"), dict):
        return body
    message["data"] = erase_order_data(message["data"])
    return json.dumps(message, separators=(",", ":"))


def scrub(text: str | None, values: list[str]) -> str | None:
    """`text` with every whole-word occurrence of `values` replaced, case-insensitively.

    Whole words: erasing the first name "Ada" must not turn "Adapter" into "[erased]pter".
    Longest first, so an email is replaced before a name inside it. A value is also looked for
    as JSON wrote it into the body ("Zo\\u00eb"), the form an echoing receiver sends back.
    """
    if not text or not values:
        return text
    forms = {form for value in values for form in (value, json.dumps(value)[1:-1])}
    for value in sorted(forms, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", ERASED, text, flags=re.IGNORECASE)
    return text
