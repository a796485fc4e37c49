"""Request and response schemas of the payments API (they also generate /openapi.json)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from tillkey.platform import schemas as strict
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


class RefundSchema(Schema):
    refund_id = fields.String()
    order_id = fields.String()
    payment_id = fields.String()
    amount = strict.Integer(metadata={"description": "minor units of `currency`"})
    currency = fields.String()
    status = fields.String(metadata={"enum": ["pending", "succeeded", "failed"]})
    reason = fields.String()
    automatic = strict.Boolean(metadata={"description": "true: an extra charge we gave back on our own (the "
                                                         "order was already paid, canceled or deleted); such a "
                                                         "refund is not the order's and sends no payment.refunded"})
    method = fields.Method("_method", metadata={"enum": ["gateway", "manual"],
                                                "description": "manual: a bank transfer paid out by support, "
                                                               "then confirmed with POST /v1/refunds/{id}/confirm"})
    failure = fields.Method("_failure", allow_none=True)
    created_at = fields.Method("_created_at")
    updated_at = fields.Method("_updated_at")

    def _method(self, r):
        return "manual" if r.gateway is None else "gateway"

    def _failure(self, r):
        return {"code": r.failure_code, "message": r.failure_message} if r.failure_code else None

    def _created_at(self, r):
        return isoformat(r.created_at)

    def _updated_at(self, r):
        return isoformat(r.updated_at)


class PaymentSchema(Schema):
    payment_id = fields.String()
    order_id = fields.String()
    method = fields.String()
    status = fields.String()
    amount = strict.Integer(metadata={"description": "minor units of `currency`"})
    currency = fields.String()
    instructions = fields.Dict(allow_none=True, metadata={"description": "offline methods: how to pay"})
    failure = fields.Method("_failure", allow_none=True)
    refunds = fields.List(fields.Nested(RefundSchema), metadata={
        "description": "refunds of this attempt, oldest first (a `refunded` attempt that was an extra "
                       "charge shows its automatic refund here)"})
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
