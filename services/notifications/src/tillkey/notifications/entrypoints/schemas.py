"""Request and response schemas of the notifications API (they also generate /openapi.json)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from tillkey.notifications.domain.messages import TEMPLATES
from tillkey.platform import schemas as strict
from tillkey.platform.clock import isoformat
from tillkey.platform.pagination import PageQuery


class MessageQuery(PageQuery):
    order_id = fields.String(load_default=None, validate=validate.Regexp(
        r"^ord_[A-Za-z0-9]{1,60}$", error="Not an order id (ord_…)."))
    to = fields.String(load_default=None, validate=validate.Length(min=1, max=320))
    status = fields.String(load_default=None, validate=validate.OneOf(
        ["queued", "sent", "failed"], error="One of queued, sent, failed."))


class MessageOut(Schema):
    message_id = fields.String()
    to = fields.String(allow_none=True, metadata={"description": "null once the order was deleted (erased)"})
    template = fields.String(metadata={"enum": list(TEMPLATES)})
    subject = fields.String()
    order_id = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": ["queued", "sent", "failed"]})
    attempts = strict.Integer()
    last_error = fields.String(allow_none=True)
    created_at = fields.Function(lambda m: isoformat(m.created_at))
    sent_at = fields.Function(lambda m: isoformat(m.sent_at), allow_none=True)


class MessagePage(Schema):
    data = fields.List(fields.Nested(MessageOut))
    next_cursor = fields.String(allow_none=True)
