"""Events produced by the payments service."""
from marshmallow import fields, validate

from tillkey.contracts.base import Currency, EventData, Id, Money
from tillkey.contracts.orders_events import OrderRef


class Failure(EventData):
    code = fields.String(required=True)
    message = fields.String(required=True)


class PaymentEvent(OrderRef):
    payment_id = Id("pay", required=True)
    method = fields.String(required=True)


class PaymentSucceeded(PaymentEvent):
    amount = Money(required=True)
    currency = Currency(required=True)


class PaymentFailed(PaymentEvent):
    failure = fields.Nested(Failure, required=True)


class PaymentPending(PaymentEvent):
    instructions = fields.Dict(required=True)


class PaymentRefunded(PaymentEvent):
    refund_id = Id("re", required=True)
    amount = Money(required=True)
    currency = Currency(required=True)
    order_status = fields.String(required=True, validate=validate.OneOf(("paid", "refunded")))


class RefundFailed(EventData):
    """payments → orders: the gateway refused a refund, release the reserved amount."""

    order_id = Id("ord", required=True)
    merchant_id = Id("mer", required=True)
    refund_id = Id("re", required=True)
    amount = Money(required=True)
    failure = fields.Nested(Failure, required=True)


SCHEMAS = {
    ("payment.succeeded", 1): PaymentSucceeded,
    ("payment.failed", 1): PaymentFailed,
    ("payment.pending", 1): PaymentPending,
    ("payment.refunded", 1): PaymentRefunded,
    ("refund.failed", 1): RefundFailed,
}
