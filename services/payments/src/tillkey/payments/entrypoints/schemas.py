"""Request and response schemas of the payments API (they also generate /openapi.json)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from tillkey.platform.clock import isoformat


class PaymentMethodSchema(Schema):
    method = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": ["online", "offline"]})
    name = fields.String(required=True)


class PaymentMethodList(Schema):
    data = fields.List(fields.Nested(PaymentMethodSchema))


class StartPaymentBody(Schema):
    method = fields.String(required=True, validate=validate.Length(min=1, max=32),
                           metadata={"description": "one of GET /v1/payment-methods"})
    payment_token = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=128),
                                  metadata={"description": "card: the single-use token from the gateway's "
                                                           "POST /v1/tokens (card data never comes here)"})


class FailureSchema(Schema):
    code = fields.String()
    message = fields.String()


class PaymentSchema(Schema):
    payment_id = fields.String()
    order_id = fields.String()
    method = fields.String()
    status = fields.String()
    amount = fields.Integer(metadata={"description": "minor units of `currency`"})
    currency = fields.String()
    instructions = fields.Dict(allow_none=True, metadata={"description": "offline methods: how to pay"})
    failure = fields.Method("_failure", allow_none=True)
    created_at = fields.Method("_created_at")
    updated_at = fields.Method("_updated_at")

    def _failure(self, p):
        return {"code": p.failure_code, "message": p.failure_message} if p.failure_code else None

    def _created_at(self, p):
        return isoformat(p.created_at)

    def _updated_at(self, p):
        return isoformat(p.updated_at)


class PaymentPage(Schema):
    data = fields.List(fields.Nested(PaymentSchema))
    next_cursor = fields.String(allow_none=True)
