"""Handlers fed the golden samples of every event notifications consumes, over a fake unit of work."""
from __future__ import annotations

import pytest

from tillkey.contracts import load_sample
from tillkey.messaging import RetryLater
from tillkey.notifications.domain.messages import FAILED, SENT
from tillkey.notifications.service_layer.handlers import EVENT_HANDLERS
from tillkey.testing.messaging import sample_envelope

from .conftest import FakeUnitOfWork, make_deps

EMAIL_EVENTS = {
    "payment.pending": ("payment_instructions", "customer"),
    "payment.succeeded": ("payment_confirmation", "customer"),
    "product.delivered": ("license_delivery", "customer"),
    "order.licenses_resend_requested": ("license_resend", "customer"),
    "order.payment_reminder_due": ("payment_reminder", "customer"),
    "payment.refunded": ("refund_confirmation", "customer"),
    "license.requested": ("license_request", "merchant"),
    "license_pool.low": ("license_pool_low", "merchant"),
    "webhook_endpoint.disabled": ("webhook_endpoint_disabled", "merchant"),
}
CONSUMED = ("merchant.registered", "order.created", "order.deleted", "product.created", "product.updated",
            "merchant.api_key_revoked", *EMAIL_EVENTS)
# Events whose every copy with a new id is a new request, so a new email (not a business key).
PER_EVENT_CAUSES = ("license_pool.low", "webhook_endpoint.disabled", "order.licenses_resend_requested")
ORDER_ID = load_sample("order.created")["data"]["order_id"]
MERCHANT = "mer_7Yb2kQ9xTz"
HANDLERS = EVENT_HANDLERS
DEPS = make_deps()


def handle(uow, type, *, new_id=False, **data):
    event = sample_envelope(type, new_id=new_id, **data)
    for handler in HANDLERS[event.type]:
        handler.handle(event, uow, DEPS)


def known_order_and_merchant(**customer) -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    handle(uow, "merchant.registered")
    handle(uow, "order.created", customer={**load_sample("order.created")["data"]["customer"], **customer})
    return uow


def test_every_consumed_type_has_a_handler_and_a_golden_sample():
    assert sorted(HANDLERS) == sorted(CONSUMED)
    for type in CONSUMED:
        assert load_sample(type)["type"] == type


def test_merchant_registered_is_remembered_then_updated():
    uow = FakeUnitOfWork()
    handle(uow, "merchant.registered")
    contact = uow.merchants.get(MERCHANT)
    assert (contact.name, contact.email) == ("Acme Software", "billing@acme.example")
    handle(uow, "merchant.registered", email="ops@acme.example")
    assert contact.email == "ops@acme.example" and uow.added() == 1


def test_order_created_remembers_the_recipient_its_lines_and_product_names_once():
    uow = FakeUnitOfWork()
    handle(uow, "order.created")
    recipient = uow.recipients.get(ORDER_ID)
    assert (recipient.merchant_id, recipient.email, recipient.first_name, recipient.locale) == (
        MERCHANT, "ada@example.com", "Ada", "en")
    assert uow.lines.get("line_9Kd2PqX7aB").name == "Pro Editor"
    assert uow.products.get("prod_5Tg7LmN2cV").name == "Pro Editor"
    added = uow.added()
    handle(uow, "order.created", customer={**load_sample("order.created")["data"]["customer"], "email": "x@y.z"})
    assert recipient.email == "ada@example.com" and uow.added() == added


def test_product_events_keep_the_current_name():
    uow = FakeUnitOfWork()
    handle(uow, "product.created")
    product_id = load_sample("product.created")["data"]["product_id"]
    handle(uow, "product.updated", product_id=product_id, name="Pro Editor 2")
    assert uow.products.get(product_id).name == "Pro Editor 2"


def test_a_missing_locale_means_english():
    uow = known_order_and_merchant(locale=None)
    assert uow.recipients.get(ORDER_ID).locale == "en"


@pytest.mark.parametrize("type", sorted(EMAIL_EVENTS))
def test_each_email_event_queues_one_rendered_message_for_the_right_person(type):
    template, audience = EMAIL_EVENTS[type]
    uow = known_order_and_merchant()
    handle(uow, type)
    [message] = uow.messages.all()
    assert (message.template, message.status, message.merchant_id) == (template, "queued", MERCHANT)
    expected_to = "ada@example.com" if audience == "customer" else "billing@acme.example"
    assert message.to == expected_to
    assert message.subject and message.text_body and message.html_body.startswith("<!doctype html>")
    if audience == "customer":
        assert message.order_id == ORDER_ID and f"http://orders.test/orders/{ORDER_ID}?token=" in message.text_body


@pytest.mark.parametrize("type", sorted(EMAIL_EVENTS))
def test_the_same_event_twice_or_a_copy_with_a_new_id_queues_one_message(type):
    uow = known_order_and_merchant()
    handle(uow, type)
    handle(uow, type)
    if type not in PER_EVENT_CAUSES:
        # Business causes (a payment, a refund, an order line): a new event saying the same thing is no new email.
        handle(uow, type, new_id=True)
    assert len(uow.messages.all()) == 1


def test_each_pool_crossing_each_disabling_and_each_resend_request_is_its_own_email():
    uow = known_order_and_merchant()
    for type in PER_EVENT_CAUSES:
        handle(uow, type)
        handle(uow, type, new_id=True)
    assert sorted(m.template for m in uow.messages.all()) == (
        ["license_pool_low"] * 2 + ["license_resend"] * 2 + ["webhook_endpoint_disabled"] * 2)


@pytest.mark.parametrize("type", sorted(t for t, (_, who) in EMAIL_EVENTS.items() if who == "customer")
                         + ["license.requested"])
def test_an_event_about_an_unknown_order_waits(type):
    uow = FakeUnitOfWork()
    handle(uow, "merchant.registered")
    with pytest.raises(RetryLater):
        handle(uow, type)
    assert uow.messages.all() == []


@pytest.mark.parametrize("type", ["license.requested", "license_pool.low", "webhook_endpoint.disabled"])
def test_a_merchant_email_for_an_unknown_merchant_waits(type):
    uow = FakeUnitOfWork()
    handle(uow, "order.created")
    with pytest.raises(RetryLater):
        handle(uow, type)


def test_german_customers_get_german_emails():
    uow = known_order_and_merchant(locale="de-DE")
    handle(uow, "payment.succeeded")
    [message] = uow.messages.all()
    assert message.locale == "de" and "88,20\u00a0€" in message.text_body and message.subject.startswith("Zahlung")


def test_order_deleted_erases_the_recipient_and_its_messages():
    uow = known_order_and_merchant()
    handle(uow, "payment.pending")
    handle(uow, "payment.succeeded")
    uow.messages.all()[0].status = SENT
    handle(uow, "order.deleted")
    recipient = uow.recipients.get(ORDER_ID)
    assert (recipient.email, recipient.first_name) == (None, None)
    assert recipient.merchant_id == MERCHANT  # kept: not personal data
    assert [(m.to, m.text_body, m.html_body) for m in uow.messages.all()] == [(None, None, None)] * 2
    assert sorted(m.status for m in uow.messages.all()) == [FAILED, SENT]  # the queued one is never sent


def test_no_email_to_an_erased_customer():
    uow = known_order_and_merchant()
    handle(uow, "order.deleted")
    handle(uow, "order.payment_reminder_due")
    assert uow.messages.all() == []


def test_an_erasure_that_overtakes_its_order_is_retried_not_dropped():
    with pytest.raises(RetryLater):
        handle(FakeUnitOfWork(), "order.deleted")


RESENT = load_sample("order.licenses_resend_requested")


@pytest.mark.parametrize(("locale", "subject", "count"), [
    ("en", "Your licenses, sent again (order ord_3Hq8ZrW2mNp5)", "(2 licenses)"),
    ("de-AT", "Ihre Lizenzen, erneut gesendet (Bestellung ord_3Hq8ZrW2mNp5)", "(2 Lizenzen)")])
def test_a_resend_request_is_one_email_with_every_delivered_line(locale, subject, count):
    uow = known_order_and_merchant(locale=locale)
    handle(uow, "order.licenses_resend_requested")
    [message] = uow.messages.all()
    assert (message.template, message.to, message.subject) == ("license_resend", "ada@example.com", subject)
    assert message.cause == f"license_resend:{RESENT['id']}"
    for body in (message.text_body, message.html_body):
        for snippet in ("Pro Editor", "KEY-AAAA-1111", "KEY-BBBB-2222", "Setup guide",
                        "Your guide is at https://acme.example/guide", count):
            assert snippet in body, (snippet, body)


def test_a_resend_of_one_line_names_its_product_and_without_keys_says_delivery():
    uow = known_order_and_merchant()
    handle(uow, "order.licenses_resend_requested", lines=RESENT["data"]["lines"][1:])
    [message] = uow.messages.all()
    assert message.subject == "Your delivery for Setup guide, sent again (order ord_3Hq8ZrW2mNp5)"
    assert "KEY-" not in message.text_body


def test_no_resend_to_an_erased_customer():
    uow = known_order_and_merchant()
    handle(uow, "order.deleted")
    handle(uow, "order.licenses_resend_requested")
    assert uow.messages.all() == []


@pytest.mark.parametrize(("locale", "order_status", "subject", "says", "never"), [
    ("en", "refunded", "Refund for your order", "refunded in full", "partial"),
    ("en", "paid", "Partial refund for your order", "partial refund", "in full"),
    ("de", "refunded", "Erstattung zu Ihrer Bestellung", "vollständig erstattet", "Teilerstattung"),
    ("de", "paid", "Teilerstattung zu Ihrer Bestellung", "Teilerstattung", "vollständig")])
def test_a_refund_email_says_full_only_when_the_order_is_refunded(locale, order_status, subject, says, never):
    uow = known_order_and_merchant(locale=locale)
    handle(uow, "payment.refunded", order_status=order_status)
    [message] = uow.messages.all()
    assert message.template == "refund_confirmation" and message.subject.startswith(subject)
    for body in (message.text_body, message.html_body):
        assert says in body and never.lower() not in body.lower()
