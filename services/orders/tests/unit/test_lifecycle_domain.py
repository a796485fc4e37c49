"""The order's lifecycle rules, pure: deliveries, payment results, reminders and expiry, refund math."""
from datetime import UTC, datetime, timedelta

import pytest

from tillkey.orders.domain.carts import Cart
from tillkey.orders.domain.catalog import Product
from tillkey.orders.domain.errors import Conflict, Invalid, NotFound, TooSoon
from tillkey.orders.domain.orders import Customer, Order
from tillkey.orders.domain.refunds import Refund, amount_to_refund, settle_refund

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DAY, HOUR = timedelta(days=1), timedelta(hours=1)


def order_of(*quantities, price=1000):
    products = {f"prod_{i}": Product.create(f"prod_{i}", "mer_1", f"P{i}", {"EUR": price}, "EUR", NOW)
                for i in range(len(quantities))}
    cart = Cart.start("cart_1", products["prod_0"], "EUR", NOW)
    for i, qty in enumerate(quantities):
        cart.add(products[f"prod_{i}"], qty, f"cl_{i}", NOW)
    quote = cart.quote(products, None, NOW)
    return Order.place("ord_1", cart, quote, Customer("a@example.com", "Ada", "L", "GB"), "card",
                       [f"line_{i}" for i in range(len(quantities))], NOW)


# -- delivery ------------------------------------------------------------------------------------
def test_order_is_delivered_once_when_its_last_line_is():
    order = order_of(1, 2)
    assert order.line_awaits_merchant("line_1", NOW)
    assert order.deliver_line("line_0", "pool", ["K1"], None, NOW + HOUR) is False
    assert order.delivery_status == "partially_delivered" and order.delivered_at is None
    assert order.deliver_line("line_1", "manual", ["K2", "K3"], None, NOW + 2 * HOUR) is True
    assert (order.delivery_status, order.delivered_at) == ("delivered", NOW + 2 * HOUR)
    # The same delivery again (another message, same meaning): no change, no second completion.
    assert order.deliver_line("line_1", "manual", ["OTHER"], None, NOW + 3 * HOUR) is False
    assert order.line("line_1").licenses == ["K2", "K3"] and order.delivered_at == NOW + 2 * HOUR


def test_line_status_only_moves_forward():
    order = order_of(1)
    order.deliver_line("line_0", "email", [], "See the guide", NOW)
    assert not order.line_awaits_merchant("line_0", NOW)       # a late request does not undo the delivery
    line = order.line("line_0")
    assert (line.delivery_status, line.licenses, line.delivery_text) == ("delivered", [], "See the guide")
    with pytest.raises(NotFound):
        order.deliver_line("line_nope", "pool", ["K"], None, NOW)


def test_payment_results():
    order = order_of(1)
    assert order.record_payment_failure("card", "card_declined", "Declined.", NOW)
    assert order.status == "not_paid" and order.last_payment_failure["code"] == "card_declined"
    assert order.mark_paid(NOW + HOUR, method="bank_transfer")
    assert (order.payment_method, order.paid_at, order.last_payment_failure) == ("bank_transfer", NOW + HOUR, None)
    assert not order.record_payment_failure("card", "card_declined", "Late news.", NOW)
    canceled = order_of(1)
    canceled.cancel(NOW, "asked")
    with pytest.raises(Conflict):
        canceled.mark_paid(NOW)
    assert (canceled.canceled_at, canceled.cancel_reason) == (NOW, "asked")


# -- unpaid orders over time ------------------------------------------------------------------------
@pytest.mark.parametrize(("age", "due"), [(23 * HOUR, False), (24 * HOUR, True), (89 * DAY, True),
                                          (90 * DAY, False), (100 * DAY, False)])
def test_reminder_is_due_after_the_delay_and_not_for_an_expiring_order(age, due):
    assert order_of(1).reminder_due(NOW + age, 24 * HOUR, 90 * DAY) is due


def test_one_reminder_only_and_none_once_paid():
    order = order_of(1)
    assert order.remind(NOW + 2 * DAY, DAY, 90 * DAY) and order.reminder_sent_at == NOW + 2 * DAY
    assert not order.remind(NOW + 3 * DAY, DAY, 90 * DAY)
    paid = order_of(1)
    paid.mark_paid(NOW)
    assert not paid.reminder_due(NOW + 2 * DAY, DAY, 90 * DAY)


def test_expiry_deletes_and_erases_only_unpaid_orders_past_the_ttl():
    order = order_of(2)
    order.customer = Customer("a@example.com", "Ada", "L", "GB", "Co", "GB1", "en")
    assert not order.expire(NOW + 90 * DAY - timedelta(seconds=1), 90 * DAY)
    assert order.expire(NOW + 90 * DAY, 90 * DAY)
    assert (order.status, order.deleted_at, order.customer.email, order.customer.vat_id) == (
        "deleted", NOW + 90 * DAY, None, None)
    assert order.total == 2000 and len(order.lines) == 1
    assert not order.expire(NOW + 91 * DAY, 90 * DAY)          # once
    paid = order_of(1)
    paid.mark_paid(NOW)
    assert not paid.expire(NOW + 100 * DAY, 90 * DAY) and paid.status == "paid"


# -- refunds ---------------------------------------------------------------------------------------
def paid_order(total_units=1, price=4900):
    order = order_of(total_units, price=price)
    order.mark_paid(NOW)
    return order


def refund_of(order, amount, refund_id="re_1"):
    order.refund_reserved += amount        # what the repository's conditional update does
    return Refund(refund_id, order.order_id, order.merchant_id, amount, order.currency, "why", "admin", NOW)


def test_refund_amount_defaults_to_what_is_left_and_never_exceeds_it():
    order = paid_order()
    assert amount_to_refund(order, None) == 4900 and amount_to_refund(order, 100) == 100
    refund_of(order, 4000)
    assert order.refundable == 900 and amount_to_refund(order, None) == 900
    with pytest.raises(Invalid) as exc:
        amount_to_refund(order, 901)
    assert exc.value.field == "amount" and "9.00 EUR" in exc.value.detail
    refund_of(order, 900, "re_2")
    with pytest.raises(Conflict):
        amount_to_refund(order, None)
    with pytest.raises(Conflict):
        amount_to_refund(order_of(1), None)                   # not paid


def test_partial_then_full_refund_and_a_failed_one_releases_its_reservation():
    order = paid_order()
    first, second = refund_of(order, 1000, "re_1"), refund_of(order, 3900, "re_2")
    assert settle_refund(order, first, True, 1000, NOW)
    assert (order.status, order.refunded_amount, order.refund_reserved) == ("paid", 1000, 3900)
    assert not settle_refund(order, first, True, 1000, NOW)    # a repeated answer
    assert settle_refund(order, second, False, 3900, NOW, "refund_declined", "No.")
    assert (order.refund_reserved, order.refundable, second.status, second.failure_code) == (
        0, 3900, "failed", "refund_declined")
    third = refund_of(order, 3900, "re_3")
    assert settle_refund(order, third, True, 3900, NOW)
    assert (order.status, order.refunded_amount, order.refundable) == ("refunded", 4900, 0)


# -- resending licenses -------------------------------------------------------------------------------
def test_resend_needs_a_paid_order_with_something_delivered_and_customers_wait_between():
    order = order_of(1, 1)
    with pytest.raises(Conflict):
        order.request_licenses_resend(NOW, None)               # not paid
    order.mark_paid(NOW)
    with pytest.raises(Conflict) as exc:
        order.request_licenses_resend(NOW, None)
    assert exc.value.code == "not_delivered"
    order.deliver_line("line_1", "pool", ["K"], None, NOW)
    assert [ln.line_id for ln in order.request_licenses_resend(NOW, timedelta(seconds=60))] == ["line_1"]
    with pytest.raises(TooSoon) as too_soon:
        order.request_licenses_resend(NOW + timedelta(seconds=20), timedelta(seconds=60))
    assert too_soon.value.retry_after == 40
    assert order.request_licenses_resend(NOW + timedelta(seconds=20), None)        # support is not limited
    assert order.request_licenses_resend(NOW + timedelta(seconds=81), timedelta(seconds=60))
