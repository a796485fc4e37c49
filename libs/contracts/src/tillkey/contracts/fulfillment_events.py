"""Events produced by the fulfillment service."""
from marshmallow import fields, validate

from tillkey.contracts.base import Id, MerchantScoped
from tillkey.contracts.orders_events import OrderRef

DELIVERY_METHODS = ("web_service", "pool", "email", "manual")


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


SCHEMAS = {
    ("product.delivered", 1): ProductDelivered,
    ("license.requested", 1): LicenseRequested,
    ("license_pool.low", 1): LicensePoolLow,
}
