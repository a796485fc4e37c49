"""A customer's personal data: which fields it is, and erasing it from event data (docs/architecture.md §2.4).

Pure Python (no marshmallow), so services' domain code can use it too. `orders_events` re-exports
it next to the `Customer` schema it describes.
"""
from __future__ import annotations

# The customer's personal data, erased when an unpaid order is deleted (docs/architecture.md §2.4). `country` and
# `locale` stay: alone they identify nobody, and accounting (VAT by country) still needs the country.
# The one definition every service erases by, so no copy of an order keeps a field the others drop.
PERSONAL_CUSTOMER_FIELDS = ("email", "first_name", "last_name", "company", "vat_id")


def erase_customer(customer: dict | None) -> dict | None:
    """A copy of a `Customer` dict with its personal fields set to None (the rest kept as is)."""
    if customer is None:
        return None
    return {**customer, **{name: None for name in PERSONAL_CUSTOMER_FIELDS if name in customer}}


def erase_order_data(data: dict) -> dict:
    """A copy of an event's `data` with its `customer` erased, if it has one (`order.created` does);
    amounts, lines, ids and `custom` are kept. Data without a customer comes back as an equal copy."""
    out = dict(data)
    if isinstance(out.get("customer"), dict):
        out["customer"] = erase_customer(out["customer"])
    return out


def personal_values(data: dict) -> list[str]:
    """The non-empty personal values an event's `data` carries (to find copies of them elsewhere,
    e.g. echoed back in a text we stored)."""
    customer = data.get("customer")
    if not isinstance(customer, dict):
        return []
    return [v for name in PERSONAL_CUSTOMER_FIELDS if isinstance(v := customer.get(name), str) and v.strip()]
