"""Request and response shapes (validation at the edge; also the source of /openapi.json).

Shape and format are checked here; business rules (a default currency among the prices, a
product of the same merchant) are the domain's, and come back as 422 with the field named.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate

from tillkey.contracts import PAYMENT_METHOD_CODES
from tillkey.contracts.orders_events import Order
from tillkey.orders.domain.carts import MAX_QUANTITY
from tillkey.orders.domain.countries import COUNTRY_CODES
from tillkey.orders.domain.money import CURRENCY_EXPONENTS, MAX_AMOUNT
from tillkey.orders.domain.orders import DELIVERY_STATUSES, ORDER_STATUSES
from tillkey.platform import schemas as strict
from tillkey.platform.pagination import PageQuery

_currency = strict.one_of(CURRENCY_EXPONENTS, "Not an ISO 4217 currency code (like EUR, USD, JPY).")
_country = strict.one_of(COUNTRY_CODES, "Not an ISO 3166-1 alpha-2 country code (like DE, US, GB).")


def _exists_in_utc(value) -> None:
    # 9999-12-31T23:59-14:00 is past the last datetime once in UTC: storing it overflowed (500).
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValidationError("Not a time that can be expressed in UTC.") from None


def Text(max_len: int, **kw) -> fields.String:
    return fields.String(validate=[validate.Length(min=1, max=max_len), strict.NOT_BLANK], **kw)


Currency = lambda **kw: fields.String(validate=_currency, **kw)  # noqa: E731
Amounts = lambda **kw: fields.Dict(  # noqa: E731
    keys=fields.String(validate=_currency),
    values=strict.Integer(validate=validate.Range(min=0, max=MAX_AMOUNT)), **kw)
Url = strict.url
Custom = lambda **kw: fields.Dict(  # noqa: E731
    keys=fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_.-]{1,40}$",
                                                error="Keys are 1 to 40 letters, digits, '_', '.' or '-'.")),
    values=fields.String(validate=validate.Length(max=500)), validate=validate.Length(max=20), **kw)


class Strict(Schema):
    class Meta:
        unknown = RAISE   # a misspelt field is an error, not silently ignored


# -- merchants ---------------------------------------------------------------------------------------
class MerchantIn(Strict):
    name = Text(200, required=True)
    email = fields.Email(required=True, validate=validate.Length(max=320))


class MerchantOut(Schema):
    merchant_id = fields.String()
    api_key = fields.String()


# Customers open these from the checkout page: only https, so nothing they read can be altered on the way.
HttpsUrl = lambda **kw: strict.url(schemes=("https",), dotted_host=True, allow_none=True,  # noqa: E731
                                   error="Not a valid https URL (like https://example.com/terms).", **kw)


class MerchantPatch(Strict):
    name = Text(200)
    terms_url = HttpsUrl()
    privacy_url = HttpsUrl()


class MerchantSettings(Schema):
    merchant_id = fields.String()
    name = fields.String()
    email = fields.String()
    terms_url = fields.String(allow_none=True)
    privacy_url = fields.String(allow_none=True)
    created_at = fields.String()


# -- products ----------------------------------------------------------------------------------------
class ProductIn(Strict):
    name = Text(200, required=True)
    prices = Amounts(required=True)
    default_currency = Currency(required=True)
    active = strict.Boolean(load_default=True)


class ProductPatch(Strict):
    name = Text(200)
    prices = Amounts()
    default_currency = Currency()
    active = strict.Boolean()


class ProductOut(Schema):
    product_id = fields.String()
    merchant_id = fields.String()
    name = fields.String()
    prices = fields.Dict(keys=fields.String(), values=strict.Integer())
    default_currency = fields.String()
    active = strict.Boolean()
    checkout_url = fields.String()
    created_at = fields.String()
    updated_at = fields.String()


class ProductList(Schema):
    data = fields.List(fields.Nested(ProductOut))
    next_cursor = fields.String(allow_none=True)


# -- coupons -----------------------------------------------------------------------------------------
class CouponIn(Strict):
    code = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", error="1 to 64 letters, digits, '-' or '_'."))
    percent_off = strict.Integer(allow_none=True, validate=validate.Range(min=1, max=100))
    amount_off = fields.Dict(keys=fields.String(validate=_currency), allow_none=True,
                             values=strict.Integer(validate=validate.Range(min=1, max=MAX_AMOUNT)))
    product_ids = fields.List(fields.String(validate=validate.Length(min=1, max=64)), allow_none=True,
                              validate=validate.Length(min=1, max=100))
    expires_at = fields.AwareDateTime(allow_none=True, validate=_exists_in_utc)
    max_redemptions = strict.Integer(allow_none=True, validate=validate.Range(min=1, max=10**9))


class CouponPatch(Strict):
    active = strict.Boolean(required=True)


class CouponOut(Schema):
    code = fields.String()
    percent_off = strict.Integer(allow_none=True)
    amount_off = fields.Dict(keys=fields.String(), values=strict.Integer(), allow_none=True)
    product_ids = fields.List(fields.String(), allow_none=True)
    expires_at = fields.String(allow_none=True)
    max_redemptions = strict.Integer(allow_none=True)
    redemptions = strict.Integer()
    active = strict.Boolean()
    created_at = fields.String()


class CouponList(Schema):
    data = fields.List(fields.Nested(CouponOut))
    next_cursor = fields.String(allow_none=True)


# -- carts -------------------------------------------------------------------------------------------
Quantity = lambda low=1, **kw: strict.Integer(validate=validate.Range(min=low, max=MAX_QUANTITY),  # noqa: E731
                                             **kw)


class CartLineIn(Strict):
    product_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    quantity = Quantity(required=True)


class CartIn(Strict):
    lines = fields.List(fields.Nested(CartLineIn), required=True, validate=validate.Length(min=1, max=100))
    currency = Currency()
    coupon = fields.String(validate=validate.Length(min=1, max=64))
    email = fields.Email(validate=validate.Length(max=320))
    return_url = Url()
    custom = Custom()


class CartLinePatch(Strict):
    quantity = Quantity(low=0, required=True)


class CartPatch(Strict):
    currency = Currency()
    coupon = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))


class CartLineOut(Schema):
    line_id = fields.String()
    product_id = fields.String()
    name = fields.String()
    quantity = strict.Integer()
    unit_price = strict.Integer()
    discount = strict.Integer()
    total = strict.Integer()
    problem = fields.String(allow_none=True)


class CartOut(Schema):
    cart_id = fields.String()
    merchant_id = fields.String()
    status = fields.String()
    order_id = fields.String(allow_none=True)
    currency = fields.String()
    coupon = fields.String(allow_none=True)
    coupon_problem = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(CartLineOut))
    subtotal = strict.Integer()
    discount = strict.Integer()
    total = strict.Integer()
    email = fields.String(allow_none=True)
    return_url = fields.String(allow_none=True)
    locale = fields.String(allow_none=True)
    custom = fields.Dict(keys=fields.String(), values=fields.String())
    checkout_page_url = fields.String()
    created_at = fields.String()
    updated_at = fields.String()


# -- checkout and orders -----------------------------------------------------------------------------
class CustomerIn(Strict):
    email = fields.Email(required=True, validate=validate.Length(max=320))
    first_name = Text(100, required=True)
    last_name = Text(100, required=True)
    country = fields.String(required=True, validate=_country)
    company = fields.String(allow_none=True, validate=validate.Length(max=200))
    vat_id = fields.String(allow_none=True, validate=validate.Length(max=32))
    locale = fields.String(allow_none=True, validate=validate.Regexp(
        r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", error="A language tag like en or de-AT."))


class ConsentsIn(Strict):
    terms = strict.Boolean(required=True, validate=validate.Equal(True, error="The sales terms must be accepted."))
    personal_data = strict.Boolean(required=True, validate=validate.Equal(
        True, error="Consent to the processing of personal data is needed."))


class CheckoutIn(Strict):
    customer = fields.Nested(CustomerIn, required=True)
    payment_method = fields.String(required=True, validate=validate.OneOf(PAYMENT_METHOD_CODES))
    consents = fields.Nested(ConsentsIn, required=True)


class CheckoutOut(Schema):
    order_id = fields.String()
    order_token = fields.String()
    payment_url = fields.String()
    order = fields.Nested(Order)


class DayOrTime(fields.Field):
    """An ISO 8601 date (a whole day in UTC) or date-time (no offset: UTC), as a date or an aware datetime.

    A date-time whose offset takes it past the calendar's ends in UTC (0001-01-01T00:00+01:00) is a
    search bound beyond every order: it is kept as the calendar's end rather than refused."""

    default_error_messages = {"invalid": "An ISO 8601 date (2026-03-01) or date-time (2026-03-01T12:00:00Z)."}
    # What /openapi.json says; `_deserialize` accepts all of it (tests/contract checks the document).
    openapi = {"anyOf": [{"type": "string", "format": "date", "maxLength": 40},
                         {"type": "string", "format": "date-time", "maxLength": 40}]}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not 10 <= len(value) <= 40:
            raise self.make_error("invalid")
        try:
            if len(value) == 10:
                return date.fromisoformat(value)
            moment = datetime.fromisoformat(value.upper())        # RFC 3339 allows a lowercase t and z
        except ValueError:
            raise self.make_error("invalid") from None
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            return (datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=UTC)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


class OrderListQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))
    delivery_status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))
    email = fields.String(validate=validate.Length(min=1, max=320), metadata={
        "description": "the customer's email, exactly, ignoring case"})
    created_from = DayOrTime(metadata={"description": "created at or after (a date: from its start, UTC)"})
    created_to = DayOrTime(metadata={"description": "created at or before (a date: until its end, UTC); "
                                                    "before created_from: 422"})

    @post_load
    def _bounds(self, data, **_):
        """`created_to` becomes an exclusive bound, `created_before`: the day after a date, one
        microsecond (what the database keeps) after a date-time; none past the calendar's end.
        An empty range is the use case's to refuse (it is about two fields' values, not their shape)."""
        start, end = data.get("created_from"), data.pop("created_to", None)
        if isinstance(start, date) and not isinstance(start, datetime):
            data["created_from"] = _day_start(start)
        if end is not None:
            try:
                data["created_before"] = (_day_start(end) + timedelta(days=1) if not isinstance(end, datetime)
                                          else end + timedelta(microseconds=1))
            except OverflowError:
                pass
        return data


class OrderList(Schema):
    data = fields.List(fields.Nested(Order))
    next_cursor = fields.String(allow_none=True)


OrderOut = Order


# -- support actions ---------------------------------------------------------------------------------
class CancelIn(Strict):
    reason = Text(500, required=True)


class RefundIn(Strict):
    amount = strict.Integer(validate=validate.Range(min=1, max=MAX_AMOUNT))
    reason = Text(500, required=True)


class RefundOut(Schema):
    refund_id = fields.String()
    order_id = fields.String()
    amount = strict.Integer()
    currency = fields.String()
    reason = fields.String()
    status = fields.String()
    created_at = fields.String()


class ResendOut(Schema):
    order_id = fields.String()
    status = fields.String()
    lines = strict.Integer()
