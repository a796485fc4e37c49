"""Request and response schemas of the webhooks API (they also generate /openapi.json)."""
from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from tillkey.contracts import PUBLIC_EVENT_TYPES
from tillkey.platform import schemas as strict
from tillkey.platform.clock import isoformat
from tillkey.platform.pagination import PageQuery
from tillkey.webhooks.domain.model import ALL_EVENTS

EVENT_CHOICES = (*PUBLIC_EVENT_TYPES, ALL_EVENTS)
DELIVERY_STATUSES = ("pending", "succeeded", "failed")


class Timestamp(fields.Field):
    """RFC 3339 in UTC with `Z`."""

    def _serialize(self, value, attr, obj, **kwargs):
        return isoformat(value)


def _events_field(**kw):
    return fields.List(
        fields.String(validate=validate.OneOf(EVENT_CHOICES, error="Unknown event type {input}; "
                                              f"use one of {', '.join(EVENT_CHOICES)}.")),
        validate=validate.Length(min=1, max=len(EVENT_CHOICES)), **kw)


class _Strict(Schema):
    # Unknown fields are a 422 (the marshmallow default, stated here): a typo must not pass silently.
    class Meta:
        unknown = RAISE


class EndpointCreate(_Strict):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2048))
    events = _events_field(required=True)
    description = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class EndpointUpdate(_Strict):
    class Meta(_Strict.Meta):
        openapi = {"minProperties": 1}   # `_something`

    url = fields.String(validate=validate.Length(min=1, max=2048))
    events = _events_field()
    description = fields.String(validate=validate.Length(max=500))
    # JSON true/false only: "no" or 0 as a boolean is a guess we do not make.
    enabled = strict.Boolean()

    @validates_schema
    def _something(self, data, **_):
        if not data:
            raise ValidationError("Send at least one of url, events, description, enabled.")


class EndpointOut(Schema):
    endpoint_id = fields.String()
    url = fields.String()
    events = fields.List(fields.String())
    description = fields.String(allow_none=True)
    enabled = strict.Boolean()
    disabled_reason = fields.String(allow_none=True)
    created_at = Timestamp()


class EndpointWithSecret(EndpointOut):
    secret = fields.String()


class SecretOut(Schema):
    endpoint_id = fields.String()
    secret = fields.String()


class EndpointPage(Schema):
    data = fields.List(fields.Nested(EndpointOut))
    next_cursor = fields.String(allow_none=True)


class DeliveryQueryIn(PageQuery):
    endpoint_id = fields.String(load_default=None, validate=validate.Length(max=64))
    event_id = fields.String(load_default=None, validate=validate.Length(max=64))
    status = fields.String(load_default=None, validate=validate.OneOf(DELIVERY_STATUSES))
    order_id = fields.String(load_default=None, validate=validate.Regexp(
        r"^ord_[A-Za-z0-9_-]{1,60}$", error="Not an order id (ord_…)."), metadata={
        "description": "the deliveries of this order's events (another merchant's order: 404)"})


class AttemptOut(Schema):
    attempted_at = Timestamp()
    response_status = strict.Integer(allow_none=True)
    duration_ms = strict.Integer()
    error = fields.String(allow_none=True)
    response_excerpt = fields.String(allow_none=True)
    manual = strict.Boolean()


class DeliveryOut(Schema):
    delivery_id = fields.String()
    endpoint_id = fields.String()
    event_id = fields.String()
    event_type = fields.String()
    status = fields.String()
    next_attempt_at = Timestamp(allow_none=True)
    last_attempt_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    attempts = fields.List(fields.Nested(AttemptOut))
    payload = fields.Dict(metadata={"description": "The webhook's JSON body (what every attempt sends); "
                                                   "the customer's personal data is erased once the order is deleted."})


class DeliveryPage(Schema):
    data = fields.List(fields.Nested(DeliveryOut))
    next_cursor = fields.String(allow_none=True)
