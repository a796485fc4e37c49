"""The notifications worker against the real RabbitMQ: golden samples in, effects once."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tillkey.notifications.adapters import tables
from tillkey.testing.messaging import declare_fresh, publish, queue_depth, running, sample_envelope, wait_until

pytestmark = pytest.mark.integration
ORDER = "ord_3Hq8ZrW2mNp5"


def count(service, table):
    with service.session_factory() as session:
        return session.execute(select(func.count()).select_from(table)).scalar_one()


def test_each_consumed_type_twice_has_one_effect(service, settings, consumer):
    with running(consumer=consumer):
        for type in ("merchant.registered", "order.created"):
            publish(settings.amqp_url, sample_envelope(type), times=2)
        wait_until(lambda: len(consumer.counter.seen) == 4, what="all four copies handled")
    assert (count(service, tables.merchant_contacts), count(service, tables.order_recipients)) == (1, 1)
    assert count(service, tables.inbox) == 2
    with service.uow_factory() as uow:
        assert uow.merchants.get("mer_7Yb2kQ9xTz").email == "billing@acme.example"
        assert uow.recipients.get(ORDER).email == "ada@example.com"
    assert queue_depth(settings.amqp_url, service.topology.dead_queue) == 0


def test_an_erasure_that_overtakes_its_order_still_erases(service, settings, consumer):
    with running(consumer=consumer):
        publish(settings.amqp_url, sample_envelope("order.deleted"), times=2)
        publish(settings.amqp_url, sample_envelope("order.created"))

        def erased():
            with service.uow_factory() as uow:
                recipient = uow.recipients.get(ORDER)
                return recipient is not None and recipient.email is None and recipient.first_name is None
        wait_until(erased, timeout=20, what="the recipient erased after its retry")


def test_an_email_event_delivered_twice_sends_one_email(service, settings, consumer, mail, smtp_sink):
    payment = sample_envelope("payment.succeeded")
    with running(consumer=consumer, mail=mail):
        publish(settings.amqp_url, sample_envelope("merchant.registered"))
        publish(settings.amqp_url, sample_envelope("order.created"))
        publish(settings.amqp_url, payment, times=2)  # the broker's at-least-once redelivery
        # A second event about the same payment (a producer that emitted it twice): same cause.
        publish(settings.amqp_url, sample_envelope("payment.succeeded", new_id=True))
        wait_until(lambda: len(consumer.counter.seen) == 5, timeout=20, what="all five messages handled")
        emails = smtp_sink.wait_for(1, settle=1.0)
    assert [e.subject for e in emails] == ["Payment received for your order ord_3Hq8ZrW2mNp5"]
    assert count(service, tables.messages) == 1
    assert queue_depth(settings.amqp_url, service.topology.dead_queue) == 0


def test_an_email_about_an_order_not_known_yet_waits_for_it(service, settings, consumer, mail, smtp_sink):
    with running(consumer=consumer, mail=mail):
        publish(settings.amqp_url, sample_envelope("product.delivered"))  # overtakes its order
        publish(settings.amqp_url, sample_envelope("license.requested"))  # and its merchant
        wait_until(lambda: len(consumer.counter.seen) >= 2, what="the early events tried once")
        assert smtp_sink.received() == []
        publish(settings.amqp_url, sample_envelope("order.created"))
        publish(settings.amqp_url, sample_envelope("merchant.registered"))
        emails = smtp_sink.wait_for(2, timeout=30, settle=0.5)
    assert sorted(e.header("X-Tillkey-Template") for e in emails) == ["license_delivery", "license_request"]
    assert queue_depth(settings.amqp_url, service.topology.dead_queue) == 0


def test_the_consumer_hands_queued_emails_to_the_sender_without_a_claim(service, settings, smtp_sink, monkeypatch):
    from prometheus_client import REGISTRY

    from tillkey.notifications.bootstrap import build_workers
    from tillkey.notifications.service_layer import sending
    from tillkey.notifications.service_layer.handlers import HANDLERS

    def sent():
        return REGISTRY.get_sample_value("tillkey_emails_sent_total", {"outcome": "sent"}) or 0

    before = sent()
    # The poll finds nothing: only the hand-over sends.
    monkeypatch.setitem(HANDLERS, sending.ClaimDueEmails, lambda *args: [])
    loops = build_workers(settings)
    declare_fresh(settings.amqp_url, loops["consumer"].topology)
    with running(**loops):
        for type in ("merchant.registered", "order.created", "payment.succeeded"):
            publish(settings.amqp_url, sample_envelope(type))
        emails = smtp_sink.wait_for(1, timeout=20, settle=0.5)
        wait_until(lambda: _statuses(service) == ["sent"], what="the sent email recorded")
    assert [e.subject for e in emails] == ["Payment received for your order ord_3Hq8ZrW2mNp5"]
    assert sent() == before + 1  # counted once, as sent


def _statuses(service) -> list[str]:
    with service.uow_factory() as uow:
        return [m.status for m in uow.messages.of_order(ORDER)]
