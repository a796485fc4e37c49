"""Events produced by the orders service."""
from marshmallow import fields, validate

from tillkey.contracts.base import Currency, EventData, Id, MerchantScoped, Money, Timestamp
from tillkey.contracts.personal_data import (  # noqa: F401 — re-exported: the customer's personal fields
    PERSONAL_CUSTOMER_FIELDS,
    erase_customer,
    erase_order_data,
    personal_values,
)

ORDER_STATUSES = ("not_paid", "paid", "refunded", "canceled", "deleted")
DELIVERY_STATUSES = ("not_delivered", "partially_delivered", "delivered")
LINE_DELIVERY_STATUSES = ("pending", "awaiting_merchant", "delivered")


class Customer(EventData):
    # Nullable: a deleted order keeps its amounts but its personal data is erased.
    email = fields.String(allow_none=True, required=True)
    first_name = fields.String(allow_none=True, required=True)
    last_name = fields.String(allow_none=True, required=True)
    country = fields.String(allow_none=True, load_default=None)
    company = fields.String(allow_none=True, load_default=None)
    vat_id = fields.String(allow_none=True, load_default=None)
    locale = fields.String(allow_none=True, load_default=None)


class OrderLine(EventData):
    line_id = Id("line", required=True)
    product_id = Id("prod", required=True)
    name = fields.String(required=True)
    quantity = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=1000))
    unit_price = Money(required=True)
    discount = Money(required=True)
    total = Money(required=True)
    delivery_status = fields.String(required=True, validate=validate.OneOf(LINE_DELIVERY_STATUSES))


class Order(MerchantScoped):
    """The order exactly as `GET /v1/orders/{id}` shows it."""

    order_id = Id("ord", required=True)
    status = fields.String(required=True, validate=validate.OneOf(ORDER_STATUSES))
    delivery_status = fields.String(required=True, validate=validate.OneOf(DELIVERY_STATUSES))
    currency = Currency(required=True)
    subtotal = Money(required=True)
    discount = Money(required=True)
    total = Money(required=True)
    refunded_amount = Money(required=True)
    payment_method = fields.String(required=True)
    coupon = fields.String(allow_none=True, load_default=None)
    customer = fields.Nested(Customer, required=True)
    custom = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    lines = fields.List(fields.Nested(OrderLine), required=True, validate=validate.Length(min=1))
    created_at = Timestamp(required=True)
    paid_at = Timestamp(allow_none=True, required=True)
    delivered_at = Timestamp(allow_none=True, required=True)


class OrderRef(MerchantScoped):
    order_id = Id("ord", required=True)


class OrderCanceled(OrderRef):
    reason = fields.String(required=True)


class OrderPaid(OrderRef):
    """orders → fulfillment: orders accepted `payment_id` and the order is paid (docs/cancel-vs-pay.md).

    Fulfillment starts on this, not on payments' payment.succeeded: only orders decides between a
    cancel and a payment, so a charge that lost to a cancel never hands out a license."""

    payment_id = Id("pay", required=True)
    method = fields.String(required=True)


class MerchantRegistered(EventData):
    merchant_id = Id("mer", required=True)
    name = fields.String(required=True)
    email = fields.Email(required=True)


class ApiKeyRevoked(EventData):
    """orders → every service: refuse this merchant API key from now on (each keeps a denylist).

    Not a public event: a merchant learns it from the API that revoked the key."""

    merchant_id = Id("mer", required=True)
    key_id = Id("key", required=True)


class Product(EventData):
    product_id = Id("prod", required=True)
    merchant_id = Id("mer", required=True)
    name = fields.String(required=True)
    active = fields.Boolean(required=True)
    prices = fields.Dict(keys=fields.String(), values=fields.Integer(strict=True), required=True)


class RefundRequested(OrderRef):
    """orders → payments: refund `amount` of the order (already reserved on the order)."""

    refund_id = Id("re", required=True)
    amount = Money(required=True)
    currency = Currency(required=True)
    reason = fields.String(required=True)


class PaymentReminderDue(OrderRef):
    """orders → notifications: the unpaid order's single reminder is due."""

    total = Money(required=True)
    currency = Currency(required=True)


class ResentLine(EventData):
    line_id = Id("line", required=True)
    product_id = Id("prod", required=True)
    name = fields.String(required=True)
    licenses = fields.List(fields.String(), required=True)
    text = fields.String(allow_none=True, load_default=None)  # an `email` source's informational text


class LicensesResendRequested(OrderRef):
    """orders → notifications: email the delivered lines' licenses again (customer or support asked)."""

    lines = fields.List(fields.Nested(ResentLine), required=True, validate=validate.Length(min=1))


SCHEMAS = {
    ("order.created", 1): Order,
    ("order.delivered", 1): OrderRef,
    ("order.canceled", 1): OrderCanceled,
    ("order.paid", 1): OrderPaid,
    ("order.deleted", 1): OrderRef,
    ("order.payment_reminder_due", 1): PaymentReminderDue,
    ("order.licenses_resend_requested", 1): LicensesResendRequested,
    ("merchant.registered", 1): MerchantRegistered,
    ("merchant.api_key_revoked", 1): ApiKeyRevoked,
    ("product.created", 1): Product,
    ("product.updated", 1): Product,
    ("refund.requested", 1): RefundRequested,
}
