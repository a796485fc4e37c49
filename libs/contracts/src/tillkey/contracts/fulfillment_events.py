"""Events produced by the fulfillment service."""
from marshmallow import fields, validate

from tillkey.contracts.base import Id, MerchantScoped
from tillkey.contracts.orders_events import OrderRef

DELIVERY_METHODS = ("web_service", "pool", "email", "manual", "generated")


class ProductDelivered(OrderRef):
    line_id = Id("line", required=True)
    product_id = Id("prod", required=True)
    quantity = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    method = fields.String(required=True, validate=validate.OneOf(DELIVERY_METHODS))
    licenses = fields.List(fields.String(), required=True)
    text = fields.String(allow_none=True, load_default=None)  # the informational text of an `email` source


class LicenseRequested(OrderRef):
    line_id = Id("line", required=True)
    product_id = Id("prod", required=True)
    quantity = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    reason = fields.String(required=True)


class LicensePoolLow(MerchantScoped):
    product_id = Id("prod", required=True)
    available = fields.Integer(strict=True, required=True)
    low_stock_threshold = fields.Integer(strict=True, required=True)


class LicenseKeyEvent(OrderRef):
    """About one generated key (issue 17). Never the machine's name or fingerprint: personal data
    that stays in fulfillment, where the order's deletion erases it."""

    line_id = Id("line", required=True)
    product_id = Id("prod", required=True)
    key_id = Id("lk", required=True)


class LicenseActivated(LicenseKeyEvent):
    activation_id = Id("act", required=True)
    activations = fields.Integer(strict=True, required=True, validate=validate.Range(min=0))
    activation_limit = fields.Integer(strict=True, required=True, allow_none=True)


class LicenseDeactivated(LicenseActivated):
    reason = fields.String(required=True, validate=validate.OneOf(("customer", "merchant")))


class LicenseRevoked(LicenseKeyEvent):
    reason = fields.String(required=True, validate=validate.OneOf(("refund", "merchant")))


SCHEMAS = {
    ("product.delivered", 1): ProductDelivered,
    ("license.requested", 1): LicenseRequested,
    ("license_pool.low", 1): LicensePoolLow,
    ("license.activated", 1): LicenseActivated,
    ("license.deactivated", 1): LicenseDeactivated,
    ("license.revoked", 1): LicenseRevoked,
}
