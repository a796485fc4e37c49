"""Field helpers shared by the event schemas."""
from marshmallow import EXCLUDE, Schema, fields, validate

Id = lambda prefix, **kw: fields.String(validate=validate.Regexp(rf"^{prefix}_[A-Za-z0-9]+$"), **kw)  # noqa: E731
Money = lambda **kw: fields.Integer(strict=True, validate=validate.Range(min=0), **kw)  # noqa: E731
Currency = lambda **kw: fields.String(validate=validate.Regexp(r"^[A-Z]{3}$"), **kw)  # noqa: E731
Timestamp = lambda **kw: fields.String(validate=validate.Regexp(r"^\d{4}-\d\d-\d\dT.*Z$"), **kw)  # noqa: E731


class EventData(Schema):
    """Readers ignore fields they do not know, so producers may add fields without a new version."""

    class Meta:
        unknown = EXCLUDE


class MerchantScoped(EventData):
    """Every event a merchant can receive names its merchant, so webhooks can route it alone."""

    merchant_id = Id("mer", required=True)
