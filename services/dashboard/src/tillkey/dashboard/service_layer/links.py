"""The checkout link builder: a product's link with quantity, currency, coupon and custom parameters
(the parameters `GET /buy/<product_id>` of orders reads; docs/integration.md)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import urlencode

from tillkey.dashboard.service_layer.errors import Rejected

_COUPON = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_CUSTOM_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
CUSTOM_ROWS = 2


def build_link(product: dict[str, Any], form: Mapping[str, str]) -> str:
    """The product's checkout link with what the form sets; blank fields add nothing."""
    errors: dict[str, list[str]] = {}
    params: list[tuple[str, str]] = []
    quantity = (form.get("quantity") or "").strip()
    if quantity:
        if not quantity.isdigit() or not 1 <= int(quantity) <= 1000:
            errors["quantity"] = ["A whole number from 1 to 1000."]
        elif quantity != "1":
            params.append(("quantity", str(int(quantity))))
    currency = (form.get("currency") or "").strip().upper()
    if currency:
        if currency not in product.get("prices", {}):
            errors["currency"] = [f"The product has no {currency} price."]
        else:
            params.append(("currency", currency))
    coupon = (form.get("coupon") or "").strip()
    if coupon:
        if not _COUPON.match(coupon):
            errors["coupon"] = ["1 to 64 letters, digits, '-' or '_'."]
        else:
            params.append(("coupon", coupon))
    for row in range(CUSTOM_ROWS):
        key, value = (form.get(f"custom_key_{row}") or "").strip(), (form.get(f"custom_value_{row}") or "").strip()
        if not key and not value:
            continue
        if not _CUSTOM_KEY.match(key) or not value or len(value) > 200:
            errors[f"custom_key_{row}"] = ["A name of letters, digits, '_', '.' or '-' and a value of 1 to 200 "
                                           "characters."]
        else:
            params.append((f"custom[{key}]", value))
    if errors:
        raise Rejected("The link could not be built.", errors)
    url = cast(str, product["checkout_url"])     # the orders API's JSON: a string, unchecked
    return url + (f"?{urlencode(params)}" if params else "")
