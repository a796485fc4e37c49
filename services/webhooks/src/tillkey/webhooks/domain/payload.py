"""What merchants receive: docs/integration.md, "Webhooks", lists each type's `data` fields; we send exactly those.

Exactly those, because internal fields producers add for other services (the `merchant_id`
webhooks routes by, an `email` source's `text`) must not become a public contract by accident.
`order.created` is the order as `GET /v1/orders/{id}` shows it, so it keeps all its fields.
"""
from __future__ import annotations

import json
from typing import Any

PUBLIC_FIELDS: dict[str, tuple[str, ...] | None] = {
    "order.created": None,  # the whole order
    "payment.succeeded": ("order_id", "payment_id", "method", "amount", "currency"),
    "payment.failed": ("order_id", "payment_id", "method", "failure"),
    "payment.pending": ("order_id", "payment_id", "method", "instructions"),
    "product.delivered": ("order_id", "line_id", "product_id", "quantity", "method", "licenses"),
    "order.delivered": ("order_id",),
    "license.requested": ("order_id", "line_id", "product_id", "quantity", "reason"),
    "license_pool.low": ("product_id", "available", "low_stock_threshold"),
    "payment.refunded": ("order_id", "payment_id", "refund_id", "amount", "currency", "order_status"),
    "order.canceled": ("order_id", "reason"),
    "order.deleted": ("order_id",),
    "license.activated": ("order_id", "line_id", "product_id", "key_id", "activation_id", "activations",
                          "activation_limit"),
    "license.deactivated": ("order_id", "line_id", "product_id", "key_id", "activation_id", "activations",
                            "activation_limit", "reason"),
    "license.revoked": ("order_id", "line_id", "product_id", "key_id", "reason"),
}
NOT_ORDER_SCOPED = ("license_pool.low",)


def public_data(event_type: str, data: dict[str, Any], custom: dict[str, str] | None) -> dict[str, Any]:
    """The event's data as merchants see it, with the order's `custom` for order events."""
    fields = PUBLIC_FIELDS[event_type]
    out = dict(data) if fields is None else {k: data[k] for k in fields if k in data}
    if event_type not in NOT_ORDER_SCOPED:
        out["custom"] = dict(custom or {})
    return out


def body(event_id: str, event_type: str, created_at: str, sequence: int | None, data: dict[str, Any]) -> str:
    """The JSON body, serialised once: signatures cover these exact bytes on every retry."""
    return json.dumps({"id": event_id, "type": event_type, "created_at": created_at,
                       "sequence": sequence, "data": data}, separators=(",", ":"))
