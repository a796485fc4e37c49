"""Resending licenses (order.licenses_resend_requested) through the real broker, database and SMTP server.

One request is one email listing every delivered line; the broker redelivering a request sends it
once; asking again is a new request and a new email.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tillkey.notifications.adapters import tables
from tillkey.notifications.domain.messages import message_id_header
from tillkey.testing.messaging import publish, queue_depth, running, sample_envelope, wait_until

from .helpers import ORDER

pytestmark = pytest.mark.integration
KEYS = ("KEY-AAAA-1111", "KEY-BBBB-2222")
GUIDE = "Your guide is at https://acme.example/guide"


def publish_known_customer(settings, locale: str = "en") -> None:
    publish(settings.amqp_url, sample_envelope("merchant.registered"))
    publish(settings.amqp_url, sample_envelope("order.created", customer={**ORDER["customer"], "locale": locale}))


def messages(service) -> list:
    with service.session_factory() as session:
        return list(session.execute(select(tables.messages)))


def all_handled_and_sent(service, consumer, handled: int, emails: int):
    """Deadline-based: every published copy handled and every queued email through the SMTP server."""
    def done():
        rows = messages(service)
        return (len(consumer.counter.seen) >= handled and len(rows) == emails
                and all(row.status == "sent" for row in rows))
    wait_until(done, timeout=20, what=f"{handled} events handled and {emails} emails sent")


def test_a_german_customer_gets_every_key_again_in_german_in_both_parts(service, settings, consumer, mail,
                                                                      smtp_sink):
    resend = sample_envelope("order.licenses_resend_requested")
    with running(consumer=consumer, mail=mail):
        publish_known_customer(settings, locale="de-DE")
        publish(settings.amqp_url, resend)
        [email] = smtp_sink.wait_for(1)
    assert email.rcpt_tos == ["ada@example.com"]
    assert email.subject == "Ihre Lizenzen, erneut gesendet (Bestellung ord_3Hq8ZrW2mNp5)"
    assert email.header("X-Tillkey-Template") == "license_resend"
    assert email.message_id == message_id_header(f"license_resend:{resend.id}")
    for body in (email.text, email.html):
        for snippet in (*KEYS, "Pro Editor", "(2 Lizenzen)", "Setup guide", GUIDE, "wie gewünscht"):
            assert snippet in body, (snippet, body)
    assert 'lang="de"' in email.html
    assert queue_depth(settings.amqp_url, service.topology.dead_queue) == 0


def test_one_request_delivered_twice_sends_one_email(service, settings, consumer, mail, smtp_sink):
    with running(consumer=consumer, mail=mail):
        publish_known_customer(settings)
        publish(settings.amqp_url, sample_envelope("order.licenses_resend_requested"), times=2)
        all_handled_and_sent(service, consumer, handled=4, emails=1)
    [email] = smtp_sink.received()
    assert email.subject == "Your licenses, sent again (order ord_3Hq8ZrW2mNp5)"
    assert all(key in email.text and key in email.html for key in KEYS)


def test_two_requests_send_two_emails(service, settings, consumer, mail, smtp_sink):
    with running(consumer=consumer, mail=mail):
        publish_known_customer(settings)
        publish(settings.amqp_url, sample_envelope("order.licenses_resend_requested"))
        publish(settings.amqp_url, sample_envelope("order.licenses_resend_requested", new_id=True))
        all_handled_and_sent(service, consumer, handled=4, emails=2)
    emails = smtp_sink.received()
    assert len(emails) == 2 and len({e.message_id for e in emails}) == 2
    assert all(key in e.text and key in e.html for e in emails for key in KEYS)


def test_a_request_that_overtakes_its_order_waits_for_it(service, settings, consumer, mail, smtp_sink):
    with running(consumer=consumer, mail=mail):
        publish(settings.amqp_url, sample_envelope("order.licenses_resend_requested"))
        wait_until(lambda: consumer.counter.seen, what="the early request tried once")
        assert messages(service) == []
        publish_known_customer(settings)
        [email] = smtp_sink.wait_for(1, timeout=30)
    assert email.header("X-Tillkey-Template") == "license_resend" and KEYS[0] in email.text
    assert queue_depth(settings.amqp_url, service.topology.dead_queue) == 0


def test_a_request_for_an_erased_order_sends_nothing(service, settings, consumer, mail, smtp_sink):
    resend = sample_envelope("order.licenses_resend_requested")
    with running(consumer=consumer, mail=mail):
        publish_known_customer(settings)
        wait_until(lambda: len(consumer.counter.seen) == 2, what="the order known")
        publish(settings.amqp_url, sample_envelope("order.deleted"))
        wait_until(lambda: len(consumer.counter.seen) == 3, what="the order erased")
        publish(settings.amqp_url, resend)
        wait_until(lambda: resend.id in consumer.counter.seen, what="the request handled")
    with service.uow_factory() as uow:
        assert uow.recipients.get(ORDER["order_id"]).email is None
    with service.session_factory() as session:  # handled for good (inbox), not waiting on a retry
        assert session.execute(select(tables.inbox.c.message_id).where(tables.inbox.c.message_id == resend.id)).all()
    assert messages(service) == [] and smtp_sink.received() == []
    assert queue_depth(settings.amqp_url, service.topology.dead_queue) == 0


def test_the_queue_is_bound_to_resend_requests(service):
    # The topology is derived from the handler table: a consumed type the queue is not bound to
    # would never arrive at all.
    assert "order.licenses_resend_requested" in service.topology.routing_keys
