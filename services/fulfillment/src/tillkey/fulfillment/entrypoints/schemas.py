"""Request and response schemas of the fulfillment API (they also generate /openapi.json)."""
from __future__ import annotations

from marshmallow import Schema, fields

from tillkey.platform.clock import isoformat


class DeliverySchema(Schema):
    line_id = fields.String()
    product_id = fields.String()
    method = fields.String(allow_none=True, metadata={
        "description": "the method actually used (web_service, pool, email, manual); null until delivery starts"})
    status = fields.String(metadata={"enum": ["pending", "awaiting_merchant", "delivered"]})
    reason = fields.String(allow_none=True, metadata={"description": "why the line fell back to manual"})
    licenses = fields.List(fields.String())
    delivered_at = fields.Method("_delivered_at", allow_none=True)

    def _delivered_at(self, d):
        return isoformat(d.delivered_at)


class DeliveryList(Schema):
    data = fields.List(fields.Nested(DeliverySchema))
    next_cursor = fields.String(allow_none=True, metadata={"description": "always null: one order's lines"})
